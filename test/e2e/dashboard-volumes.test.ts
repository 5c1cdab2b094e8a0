// The dashboard's block-storage pages in a real Chromium against `gureum up` (fake hypervisor, real qemu-img for
// volumes and backups): boot from volume through the wizard, attach/detach from the volumes page and from the
// instance page with the status followed live, backups (full, incremental, restore, delete), a volume from a
// snapshot, and a transfer whose key is shown once and accepted by another project.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands } from '../helpers/requirements.js';
import {
  dashWorld,
  go,
  projectNetwork,
  projectWithMember,
  publicRawImage,
  signIn,
  signOut,
  statusOf,
} from '../helpers/dashboard.js';

test('dashboard volumes in Chromium: boot from volume, attach, backups, transfers', {
  timeout: 600_000,
}, async (t: TestContext) => {
  if (!requireCommands(t, ['chromium', 'qemu-img'])) return;
  const w = await dashWorld(t, 'dashboard-volumes');
  const { page, step, shot } = w;
  await projectWithMember(w, 'vol-p1', 'carol');
  await projectWithMember(w, 'vol-p2', 'dave');
  await publicRawImage(w, 'vol-img');
  await projectNetwork(w, await w.tokenOf('carol', 'vol-p1'), 'vnet', '10.77.0.0/24');
  const serverId = async (name: string) =>
    (await w.api('GET', `/compute/v2.1/servers?name=${name}&all_tenants=1`)).servers[0].id as string;
  const volumeRow = (name: string) => page.locator(`main tr[data-name="${name}"]`).first();
  const panel = (title: string) => page.locator(`form[aria-label="${title}"]`);

  /** The wizard from its first step to Launch, with the source chosen by `pickSource`. */
  async function launch(name: string, pickSource: () => Promise<void>) {
    await go(page, '#/launch');
    await page.locator('input[name="instance-name"]').fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await pickSource();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'm1.nano' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: /vnet/ }).check();
    await page.getByRole('button', { name: '8. Summary' }).click();
  }

  await step('member signs in', async () => {
    await page.goto(`${w.srv.baseUrl}/`);
    await signIn(page, 'carol');
    await page.getByRole('heading', { name: 'Overview: vol-p1' }).waitFor();
  });

  await step(
    'launch wizard: image → new volume, deleted with the instance; ACTIVE; the root volume on its page',
    async () => {
      await launch('bfv1', async () => {
        await page.getByRole('radio', { name: 'Image → new volume' }).check();
        await page.getByRole('radio', { name: 'vol-img' }).check();
        assert.equal(await page.locator('input[name="volume-size"]').inputValue(), '1');
        assert.ok(await page.getByRole('checkbox', { name: 'Delete the volume with the instance' }).isChecked());
        await shot('launch-source-volume');
      });
      await page.getByText('Image → new volume: vol-img, 1 GiB, Delete the volume with the instance').waitFor();
      await page.getByRole('button', { name: 'Launch', exact: true }).click();
      await statusOf(page, 'bfv1', 'ACTIVE').waitFor({ timeout: 90_000 });
      await go(page, `#/instances/${await serverId('bfv1')}`);
      await page.getByRole('tab', { name: 'Volumes' }).click();
      const root = page.locator('main tr', { hasText: '/dev/vda (root)' });
      await root.locator('[data-status="in-use"]').waitFor({ timeout: 30_000 });
      await root.getByText('✓').waitFor();
      assert.equal(await root.getByRole('button', { name: 'Detach' }).count(), 0, 'the root volume offered a detach');
    },
  );

  await step('volumes page: attach with the server picker, in-use live, detach', async () => {
    await go(page, '#/volumes');
    await page.locator('input[name="volume-name"]').fill('data1');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await statusOf(page, 'data1', 'available').waitFor({ timeout: 60_000 });
    await volumeRow('data1').getByRole('button', { name: 'Attach' }).click();
    const form = panel('Attach data1 to an instance');
    await form.locator('select[name="attach-server"]').selectOption({ label: 'bfv1' });
    await form.getByRole('button', { name: 'Attach' }).click();
    await statusOf(page, 'data1', 'in-use').waitFor({ timeout: 30_000 });
    await volumeRow('data1').locator('[data-server="bfv1"]').waitFor();
    await shot('volumes-attached');
    await volumeRow('data1').getByRole('button', { name: 'Detach' }).click();
    await statusOf(page, 'data1', 'available').waitFor({ timeout: 30_000 });
    assert.equal(await volumeRow('data1').locator('[data-server]').count(), 0);
  });

  await step('instance page: attach a volume and detach it again', async () => {
    await go(page, `#/instances/${await serverId('bfv1')}`);
    await page.getByRole('tab', { name: 'Volumes' }).click();
    await page.locator('select[name="attach-volume"]').selectOption({ label: 'data1 (1 GiB)' });
    await page.getByRole('button', { name: 'Attach', exact: true }).click();
    await statusOf(page, 'data1', 'in-use').waitFor({ timeout: 30_000 });
    await page
      .locator('main tr[data-name="data1"]')
      .getByText(/\/dev\/vd[b-z]/)
      .waitFor();
    await shot('instance-volumes');
    await page.locator('main tr[data-name="data1"]').getByRole('button', { name: 'Detach' }).click();
    await page.locator('main tr[data-name="data1"]').waitFor({ state: 'detached', timeout: 30_000 });
    await go(page, '#/volumes');
    await statusOf(page, 'data1', 'available').waitFor({ timeout: 30_000 });
  });

  await step('backups: full, incremental, restore to a new volume and onto an existing one, delete', async () => {
    await volumeRow('data1').getByRole('button', { name: 'Back up' }).click();
    await panel('Back up data1').getByRole('button', { name: 'Create backup' }).click();
    await statusOf(page, 'data1-backup', 'available').waitFor({ timeout: 60_000 });
    await volumeRow('data1').getByRole('button', { name: 'Back up' }).click();
    const incr = panel('Back up data1');
    await incr.locator('input[name="backup-name"]').fill('data1-incr');
    await incr.getByRole('checkbox', { name: 'Incremental' }).check();
    await incr.getByRole('button', { name: 'Create backup' }).click();
    await statusOf(page, 'data1-incr', 'available').waitFor({ timeout: 60_000 });
    await page.locator('tr[data-name="data1-incr"] [data-kind="incremental"]').waitFor();
    await page.locator('tr[data-name="data1-backup"] [data-kind="full"]').waitFor();
    // To a new volume.
    await page.locator('tr[data-name="data1-backup"]').getByRole('button', { name: 'Restore' }).click();
    await statusOf(page, 'data1-backup-restored', 'available').waitFor({ timeout: 60_000 });
    // Onto data1 itself (confirmed: it overwrites).
    const incrRow = page.locator('tr[data-name="data1-incr"]');
    await incrRow.locator('select[name="restore-target"]').selectOption({ label: 'data1 (1 GiB)' });
    const restored = page.waitForResponse((r) => r.url().includes('/restore'));
    await incrRow.getByRole('button', { name: 'Restore' }).click();
    await restored;
    await page.waitForResponse((r) => r.url().includes('/backups/detail'));
    await statusOf(page, 'data1', 'available').waitFor({ timeout: 60_000 });
    await shot('volumes-backups');
    // The full one has a dependent: its delete waits for the incremental's.
    assert.ok(await page.locator('tr[data-name="data1-backup"]').getByRole('button', { name: 'Delete' }).isDisabled());
    await incrRow.getByRole('button', { name: 'Delete' }).click();
    await incrRow.waitFor({ state: 'detached', timeout: 60_000 });
    const full = page.locator('tr[data-name="data1-backup"]');
    await full.getByRole('button', { name: 'Delete' }).click({ timeout: 30_000 });
    await full.waitFor({ state: 'detached', timeout: 60_000 });
  });

  await step('a volume from a snapshot, and one from an image', async () => {
    await volumeRow('data1').getByRole('button', { name: 'Snapshot' }).click();
    await statusOf(page, 'data1-snap', 'available').waitFor({ timeout: 60_000 });
    await page.locator('tr[data-name="data1-snap"]').getByRole('button', { name: 'Create volume' }).click();
    assert.match(await page.locator('select[name="volume-source"]').inputValue(), /^snapshot:/);
    await page.locator('input[name="volume-name"]').fill('from-snap');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await statusOf(page, 'from-snap', 'available').waitFor({ timeout: 60_000 });
    await page.locator('select[name="volume-source"]').selectOption({ label: 'vol-img' });
    await page.locator('input[name="volume-name"]').fill('bootvol');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await statusOf(page, 'bootvol', 'available').waitFor({ timeout: 60_000 });
    await volumeRow('bootvol').getByText('✓').waitFor();
  });

  await step('launch wizard: boot from an existing volume, kept after the instance', async () => {
    await launch('bfv2', async () => {
      await page.getByRole('radio', { name: 'Volume', exact: true }).check();
      await page.getByRole('radio', { name: 'bootvol' }).check();
      await page.getByRole('checkbox', { name: 'Delete the volume with the instance' }).uncheck();
    });
    await page.getByText('Volume: bootvol').waitFor();
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await statusOf(page, 'bfv2', 'ACTIVE').waitFor({ timeout: 90_000 });
    await go(page, '#/volumes');
    await statusOf(page, 'bootvol', 'in-use').waitFor({ timeout: 30_000 });
    await volumeRow('bootvol').locator('[data-server="bfv2"]').waitFor();
    assert.equal(
      await volumeRow('bootvol').getByRole('button', { name: 'Detach' }).count(),
      0,
      'a root volume offered a detach',
    );
  });

  let transferId = '';
  let authKey = '';
  await step(
    'transfer: id and key shown once with copy buttons; a deleted transfer gives the volume back',
    async () => {
      await volumeRow('data1').getByRole('button', { name: 'Transfer' }).click();
      const form = panel('Transfer data1 to another project');
      await form.getByRole('button', { name: 'Create transfer' }).click();
      await form.getByText('the key is shown only this once').waitFor();
      transferId = await form.locator('input[name="transfer-id"]').inputValue();
      authKey = await form.locator('input[name="transfer-key"]').inputValue();
      assert.match(authKey, /^[0-9a-f]{16}$/);
      await form.getByRole('button', { name: 'Copy Authorization key' }).click();
      await form.locator('button', { hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), authKey);
      await shot('volumes-transfer-key');
      await statusOf(page, 'data1', 'awaiting-transfer').waitFor({ timeout: 30_000 });
      await form.getByRole('button', { name: 'Close' }).click();
      // A second transfer, withdrawn.
      await volumeRow('from-snap').getByRole('button', { name: 'Transfer' }).click();
      await panel('Transfer from-snap to another project').getByRole('button', { name: 'Create transfer' }).click();
      await statusOf(page, 'from-snap', 'awaiting-transfer').waitFor({ timeout: 30_000 });
      const tr = page.locator('tr[data-name="from-snap"]').last();
      await tr.getByRole('button', { name: 'Delete' }).click();
      await statusOf(page, 'from-snap', 'available').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator(`td:text-is("${transferId}")`).count(), 1, 'the open transfer is listed');
    },
  );

  await step("another project's member accepts with id and key; the volume is theirs", async () => {
    await signOut(page);
    await signIn(page, 'dave');
    await page.getByRole('heading', { name: 'Overview: vol-p2' }).waitFor();
    await go(page, '#/volumes');
    assert.equal(await page.locator('tr[data-name="data1"]').count(), 0);
    await page.locator('input[name="accept-id"]').fill(transferId);
    await page.locator('input[name="accept-key"]').fill(authKey);
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await page.getByText('The volume now belongs to this project.').waitFor();
    await statusOf(page, 'data1', 'available').waitFor({ timeout: 30_000 });
    await page.locator('tr[data-name="data1-snap"]').waitFor();
    assert.equal(await page.locator('tr[data-name="bootvol"]').count(), 0, "another project's volume is visible");
  });

  assert.deepEqual(w.cspViolations, [], 'the page broke its own Content-Security-Policy');
});
