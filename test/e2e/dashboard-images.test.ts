// The dashboard's image pages in a real Chromium against `gureum up` (fake hypervisor): edit properties (sent as a
// JSON patch), share with another project whose member accepts and rejects, an image made from a server, and the
// golden-image factory's audit result (the image property `gureum_audit`) in the image list and the admin view.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands } from '../helpers/requirements.js';
import { dashWorld, go, projectNetwork, projectWithMember, rawImage, signIn, signOut } from '../helpers/dashboard.js';

test('dashboard images in Chromium: edit, share, snapshot, golden images', {
  timeout: 600_000,
}, async (t: TestContext) => {
  if (!requireCommands(t, ['chromium', 'qemu-img'])) return;
  const w = await dashWorld(t, 'dashboard-images');
  const { page, step, shot } = w;
  await projectWithMember(w, 'img-p1', 'erin');
  const p2 = await projectWithMember(w, 'img-p2', 'frank');
  const erin = await w.tokenOf('erin', 'img-p1');
  const netId = await projectNetwork(w, erin, 'inet', '10.78.0.0/24');
  const mine = await rawImage(w, { name: 'mine', visibility: 'private', hw_disk_bus: 'scsi' }, erin);
  await rawImage(w, { name: 'golden-clean', gureum_audit: 'clean', os_distro: 'debian', os_version: '12' });
  await rawImage(w, { name: 'golden-dirty', gureum_audit: 'identity-left: ssh-hostkeys,machine-id' });
  const image = () => w.api('GET', `/image/v2/images/${mine}`);

  await step('member opens an image and edits its properties (a JSON patch)', async () => {
    await page.goto(`${w.srv.baseUrl}/`);
    await signIn(page, 'erin');
    await page.getByRole('heading', { name: 'Overview: img-p1' }).waitFor();
    await go(page, '#/images');
    await page.locator('tr[data-name="golden-clean"] [data-audit="clean"]').waitFor();
    await page.locator('tr[data-name="golden-dirty"] [data-audit="identity-left"]').waitFor();
    await page.getByRole('link', { name: 'mine', exact: true }).click();
    const form = page.locator('form[aria-label="Edit image"]');
    await form.locator('input[name="edit-name"]').fill('mine2');
    await form.locator('input[name="edit-min-disk"]').fill('2');
    await form.locator('input[name="edit-min-ram"]').fill('128');
    await form.locator('select[name="edit-visibility"]').selectOption('shared');
    await form.getByRole('checkbox', { name: 'Protected' }).check();
    await form.locator('input[name="edit-tags"]').fill('web, debian');
    await form.locator('input[name="new-property-key"]').fill('os_distro');
    await form.locator('input[name="new-property-value"]').fill('debian');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const img = await image();
    assert.equal(img.name, 'mine2');
    assert.equal(img.min_disk, 2);
    assert.equal(img.min_ram, 128);
    assert.equal(img.visibility, 'shared');
    assert.equal(img.protected, true);
    assert.deepEqual([...img.tags].sort(), ['debian', 'web']);
    assert.equal(img.os_distro, 'debian');
    assert.equal(img.hw_disk_bus, 'scsi');
    await page.getByRole('heading', { name: /mine2/ }).waitFor();
    await page.locator('form[aria-label="Edit image"]').getByRole('button', { name: 'Remove hw_disk_bus' }).click();
    await page.locator('form[aria-label="Edit image"]').getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.equal((await image()).hw_disk_bus, undefined, 'the removed property is still there');
    await shot('image-edit');
  });

  await step('share with another project: member listed as pending', async () => {
    await page.locator('input[name="member-project"]').fill(p2);
    await page.getByRole('button', { name: 'Share' }).click();
    await page.locator(`tr[data-member="${p2}"] [data-status="pending"]`).waitFor();
  });

  await step("the other project's member accepts, then rejects", async () => {
    await signOut(page);
    await signIn(page, 'frank');
    await page.getByRole('heading', { name: 'Overview: img-p2' }).waitFor();
    await go(page, '#/images');
    const row = page.locator('tr[data-shared="mine2"]');
    await row.locator('[data-status="pending"]').waitFor();
    assert.equal(await page.locator('tr[data-name="mine2"]').count(), 0, 'a pending image is in the list');
    await row.getByRole('button', { name: 'Accept' }).click();
    await row.locator('[data-status="accepted"]').waitFor();
    await page.locator('tr[data-name="mine2"]').waitFor();
    await shot('images-shared');
    await row.getByRole('button', { name: 'Reject' }).click();
    await row.locator('[data-status="rejected"]').waitFor();
    await page.locator('tr[data-name="mine2"]').waitFor({ state: 'detached' });
  });

  await step('the owner sees the answer and removes the member', async () => {
    await signOut(page);
    await signIn(page, 'erin');
    await page.getByRole('heading', { name: 'Overview: img-p1' }).waitFor();
    await go(page, `#/images/${mine}`);
    const member = page.locator(`tr[data-member="${p2}"]`);
    await member.locator('[data-status="rejected"]').waitFor();
    await member.getByRole('button', { name: 'Remove' }).click();
    await member.waitFor({ state: 'detached' });
  });

  await step('create an image from a server on its page', async () => {
    // The image now wants 2 GiB of disk and 128 MiB of RAM: a flavor that fits.
    const flavor = (await w.api('GET', '/compute/v2.1/flavors/detail')).flavors.find(
      (f: { disk: number; ram: number }) => (f.disk === 0 || f.disk >= 2) && f.ram >= 128,
    );
    const server = (
      await w.api(
        'POST',
        '/compute/v2.1/servers',
        { server: { name: 'web', imageRef: mine, flavorRef: flavor.id, networks: [{ uuid: netId }] } },
        erin,
      )
    ).server;
    await go(page, `#/instances/${server.id}`);
    await page.locator('[data-status="ACTIVE"]').first().waitFor({ timeout: 60_000 });
    w.promptAnswer.value = 'web-snap';
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    await page.getByText('The snapshot is being saved as an image.').waitFor();
    await page.getByRole('link', { name: 'Open the image' }).click();
    await page.getByRole('heading', { name: /web-snap/ }).waitFor();
  });

  await step("admin: the golden-image factory's images with their audit result", async () => {
    await signOut(page);
    await signIn(page, 'admin', w.srv.admin.password);
    await go(page, '#/admin/golden-images');
    await page.locator('tr[data-name="golden-clean"] [data-audit="clean"]').waitFor();
    await page.locator('tr[data-name="golden-dirty"]').getByText('identity left: ssh-hostkeys,machine-id').waitFor();
    await page.locator('tr[data-name="golden-clean"]').getByText('debian 12').waitFor();
    assert.equal(await page.locator('tr[data-name="mine2"]').count(), 0, 'an image without an audit is listed');
    await shot('admin-golden-images');
  });

  assert.deepEqual(w.cspViolations, [], 'the page broke its own Content-Security-Policy');
});
