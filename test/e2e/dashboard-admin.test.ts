// The dashboard's admin pages and application credentials in a real Chromium against `gureum up` (fake
// hypervisor): private flavor access, quota editing per project with use beside the limits, groups with members and
// role assignments, and a member's application credential (secret shown once, used to sign in, deleted).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands } from '../helpers/requirements.js';
import { request } from '../helpers/http.js';
import { dashWorld, go, PASSWORD, projectWithMember, signIn, signOut } from '../helpers/dashboard.js';

test('dashboard admin in Chromium: flavor access, quotas, groups, application credentials', {
  timeout: 600_000,
}, async (t: TestContext) => {
  if (!requireCommands(t, ['chromium', 'qemu-img'])) return;
  const w = await dashWorld(t, 'dashboard-admin');
  const { page, step, shot } = w;
  const p1 = await projectWithMember(w, 'adm-p1', 'gina');
  const p2 = await w.api('POST', '/identity/v3/projects', { project: { name: 'adm-p2', domain_id: 'default' } });
  const gina = await w.tokenOf('gina', 'adm-p1');
  await w.api('POST', `/volume/v3/${p1}/volumes`, { volume: { name: 'used', size: 1 } }, gina);
  const flavorNames = async () =>
    ((await w.api('GET', '/compute/v2.1/flavors', undefined, gina)).flavors as { name: string }[]).map((f) => f.name);

  await step('admin signs in', async () => {
    await page.goto(`${w.srv.baseUrl}/`);
    await signIn(page, 'admin', w.srv.admin.password);
    await page.getByRole('heading', { name: 'Overview: admin' }).waitFor();
  });

  await step('a private flavor, given to a project and taken back', async () => {
    await go(page, '#/admin/flavors');
    await page.locator('input[name="flavor-name"]').fill('priv1');
    await page.getByRole('checkbox', { name: 'Public' }).uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-name="priv1"]');
    await row.getByRole('button', { name: 'Project access' }).click();
    const region = page.getByRole('region', { name: 'Projects that may use priv1' });
    await region.getByText('No project may use this private flavor yet.').waitFor();
    assert.ok(!(await flavorNames()).includes('priv1'));
    await region.locator('select[name="access-project"]').selectOption({ label: 'adm-p1' });
    await region.getByRole('button', { name: 'Grant access' }).click();
    await region.locator('[data-project="adm-p1"]').waitFor();
    assert.ok((await flavorNames()).includes('priv1'), 'the project cannot see the flavor it was given');
    await shot('admin-flavor-access');
    await region.locator('[data-project="adm-p1"]').getByRole('button', { name: 'Remove' }).click();
    await region.locator('[data-project="adm-p1"]').waitFor({ state: 'detached' });
    assert.ok(!(await flavorNames()).includes('priv1'));
  });

  await step("quotas of another project: use beside the limits, each service's limit saved", async () => {
    await go(page, '#/admin/quotas');
    await page.locator('select[name="quota-project"]').selectOption({ label: 'adm-p1' });
    const volumes = page.locator('form[aria-label="Block storage (Cinder)"]');
    await volumes.locator('tr[data-resource="volumes"] [data-used="1"]').waitFor();
    for (const [form, field, value] of [
      ['Compute (Nova)', 'compute instances', '3'],
      ['Network (Neutron)', 'network network', '4'],
      ['Block storage (Cinder)', 'volume volumes', '5'],
    ] as const) {
      const f = page.locator(`form[aria-label="${form}"]`);
      await f.getByLabel(field, { exact: true }).fill(value);
      await f.getByRole('button', { name: 'Save' }).click();
      await f.getByText('Saved.').waitFor();
    }
    assert.equal((await w.api('GET', `/compute/v2.1/os-quota-sets/${p1}`)).quota_set.instances, 3);
    assert.equal((await w.api('GET', `/network/v2.0/quotas/${p1}`)).quota.network, 4);
    const adminProject = (await w.api('GET', '/identity/v3/auth/projects')).projects.find(
      (p: { name: string }) => p.name === 'admin',
    ).id;
    assert.equal((await w.api('GET', `/volume/v3/${adminProject}/os-quota-sets/${p1}`)).quota_set.volumes, 5);
    await shot('admin-quotas');
  });

  await step('a group: member added, a role on a project through it, member removed', async () => {
    await go(page, '#/admin/groups');
    await page.locator('input[name="group-name"]').fill('ops');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('tr[data-name="ops"]').getByRole('button', { name: 'Members and roles' }).click();
    const region = page.getByRole('region', { name: 'Group ops' });
    await region.locator('select[name="group-user"]').selectOption({ label: 'gina' });
    await region.getByRole('button', { name: 'Add member' }).click();
    await region.locator('[data-member="gina"]').waitFor();
    await region.locator('select[name="group-project"]').selectOption({ label: 'adm-p2' });
    await region.locator('select[name="group-role"]').selectOption({ label: 'member' });
    await region.getByRole('button', { name: 'Assign role' }).click();
    await region.locator('[data-assignment="member@adm-p2"]').waitFor();
    await w.tokenOf('gina', 'adm-p2'); // the role reaches her through the group
    await shot('admin-groups');
    await region.locator('[data-member="gina"]').getByRole('button', { name: 'Remove' }).click();
    await region.locator('[data-member="gina"]').waitFor({ state: 'detached' });
    await assert.rejects(w.tokenOf('gina', 'adm-p2'), 'gina still has a role on adm-p2');
    assert.ok(p2.project.id);
  });

  let credId = '';
  let secret = '';
  await step('a member makes an application credential: the secret once, with a copy button', async () => {
    await signOut(page);
    await signIn(page, 'gina');
    await page.getByRole('heading', { name: 'Overview: adm-p1' }).waitFor();
    await go(page, '#/app-credentials');
    await page.locator('input[name="appcred-name"]').fill('ci');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('it is shown only this once').waitFor();
    credId = await page.locator('input[name="appcred-id"]').inputValue();
    secret = await page.locator('input[name="appcred-secret"]').inputValue();
    assert.ok(secret.length >= 16);
    await page.getByRole('button', { name: 'Copy Secret' }).click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret);
    await page.locator('tr[data-name="ci"]').waitFor();
    await shot('app-credentials');
  });

  await step('sign in with it; then, with the password again, delete it', async () => {
    await signOut(page);
    await page.getByRole('tab', { name: 'Application credential' }).click();
    await page.locator('input[name="credential-id"]').fill(credId);
    await page.locator('input[name="credential-secret"]').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview: adm-p1' }).waitFor();
    await signOut(page);
    await page.getByRole('tab', { name: 'Password' }).click();
    await signIn(page, 'gina', PASSWORD);
    await go(page, '#/app-credentials');
    await page.locator('tr[data-name="ci"]').getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-name="ci"]').waitFor({ state: 'detached' });
    const r = await request('POST', `${w.srv.baseUrl}/identity/v3/auth/tokens`, {
      json: {
        auth: { identity: { methods: ['application_credential'], application_credential: { id: credId, secret } } },
      },
    });
    assert.equal(r.status, 401, 'the deleted credential still signs in');
  });

  assert.deepEqual(w.cspViolations, [], 'the page broke its own Content-Security-Policy');
});
