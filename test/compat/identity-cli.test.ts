// The identity walk-through with Debian's stock `openstack` CLI against a real `gureum up`.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, getToken, type Credentials } from '../helpers/server.js';
import {
  openstack,
  openstackJson,
  openstackOk,
  CliError,
  type CliIdentity,
  type CliOptions,
  explained,
  lastExchanges,
} from '../helpers/openstack.js';
import { requireCommands, skipAfterFailedStep } from '../helpers/requirements.js';
import { request, describeExchange } from '../helpers/http.js';

const debug: CliOptions = { debug: true };

test('identity walk-through with the stock openstack CLI', { timeout: 600_000 }, async (t) => {
  if (!requireCommands(t, ['openstack'])) return;
  const server = await startServer();
  t.after(() => server.stop());
  const admin: CliIdentity = { cloudsYaml: server.cloudsYaml };
  const json = <T = any>(who: CliIdentity, args: string[], opts: CliOptions = debug) =>
    explained(openstackJson<T>(who, args, { ...debug, ...opts }));

  // Later steps build on earlier ones; once a step they need fails, they skip with the reason.
  let broken: string | null = null;
  const step = (name: string, fn: (st: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      if (broken) {
        skipAfterFailedStep(st, broken);
        return;
      }
      try {
        await fn(st);
      } catch (err) {
        broken = name;
        throw err;
      }
    });

  const password = `u1-${Math.random().toString(36).slice(2)}-Pw`;
  let p1: { id: string; name: string } | undefined;
  let u1: { id: string; name: string } | undefined;
  let u1Token = '';
  let u1Who: CliIdentity | undefined;

  await step('token issue (admin)', async () => {
    const token = await json(admin, ['token', 'issue']);
    assert.ok(token.id, 'token id');
    assert.ok(token.project_id, 'project_id');
    assert.ok(token.user_id, 'user_id');
    assert.ok(token.expires, 'expires');
  });

  await t.test('catalog list shows identity at this server', async () => {
    const catalog = await json<any[]>(admin, ['catalog', 'list']);
    const identity = catalog.find((e) => e.Type === 'identity');
    assert.ok(identity, `no identity service in ${JSON.stringify(catalog)}`);
    const endpoints = JSON.stringify(identity.Endpoints);
    assert.ok(endpoints.includes(server.baseUrl), `identity endpoints ${endpoints} do not point at ${server.baseUrl}`);
    assert.ok(
      endpoints.includes(server.regionName),
      `identity endpoints ${endpoints} lack region ${server.regionName}`,
    );
  });

  await step('project create p1', async () => {
    p1 = await json(admin, ['project', 'create', 'p1']);
    assert.equal(p1!.name, 'p1');
    assert.ok(p1!.id);
  });

  await step('user create --project p1 --password-prompt u1', async (st) => {
    // --password-prompt needs a terminal (osc_lib's get_password checks isatty): a pty answers it.
    const res = await openstack(admin, ['user', 'create', '--project', 'p1', '--password-prompt', 'u1', '-f', 'json'], {
      ...debug,
      prompts: [password, password],
    });
    // No fallback to --password: this step is the proof that the prompt works (the next steps log in with it).
    if (res.status !== 0)
      throw new CliError(
        `${res.command} exited ${res.status}\n${res.stderr}\n--- last HTTP exchanges ---\n${lastExchanges(res)}`,
        res,
      );
    u1 = JSON.parse(res.stdout);
    st.diagnostic('password given through --password-prompt (answered on a pseudo-terminal)');
    assert.equal(u1!.name, 'u1');
    assert.equal((u1 as any).default_project_id, p1!.id, 'default_project_id is p1');
  });

  await step('role add --project p1 --user u1 member', async () => {
    await explained(openstackOk(admin, ['role', 'add', '--project', 'p1', '--user', 'u1', 'member'], debug));
  });

  await step('role assignment list --names shows u1 as member of p1', async () => {
    const rows = await json<any[]>(admin, ['role', 'assignment', 'list', '--names']);
    const row = rows.find(
      (r) => r.Role === 'member' && /^u1(@|$)/.test(r.User ?? '') && /^p1(@|$)/.test(r.Project ?? ''),
    );
    assert.ok(row, `no member/u1/p1 row in ${JSON.stringify(rows)}`);
    assert.equal(row.User, `u1@${server.admin.domainName}`);
  });

  await t.test('application credential create, then authenticate with it', async () => {
    const cred = await json(admin, ['application', 'credential', 'create', 'gureum-compat']);
    assert.ok(cred.id, 'id');
    assert.ok(cred.secret, 'secret');
    const token = await json(
      {
        authUrl: server.authUrl,
        regionName: server.regionName,
        applicationCredential: { id: cred.id, secret: cred.secret },
      },
      ['token', 'issue'],
    );
    assert.ok(token.id);
    assert.equal(token.project_id, cred.project_id, 'the token is scoped to the credential project');
  });

  await step('u1 token issue is scoped to p1', async () => {
    const creds: Credentials = { username: 'u1', password, projectName: 'p1', domainName: server.admin.domainName };
    u1Who = { authUrl: server.authUrl, regionName: server.regionName, credentials: creds };
    const token = await json(u1Who, ['token', 'issue']);
    assert.equal(token.project_id, p1!.id);
    assert.equal(token.user_id, u1!.id);
    u1Token = token.id;
  });

  await t.test('u1 reads its own project and user', async (st) => {
    if (!u1Who) return skipAfterFailedStep(st, 'u1 token issue is scoped to p1');
    const project = await json(u1Who, ['project', 'show', p1!.id]);
    assert.equal(project.name, 'p1');
    const user = await json(u1Who, ['user', 'show', u1!.id]);
    assert.equal(user.name, 'u1');
  });

  await t.test('u1 gets 403 on admin-only calls', async (st) => {
    if (!u1Who) return skipAfterFailedStep(st, 'u1 token issue is scoped to p1');
    for (const args of [
      ['user', 'list'],
      ['project', 'create', 'p2-by-u1'],
    ]) {
      const res = await openstack(u1Who, args, debug);
      assert.notEqual(res.status, 0, `${res.command} should fail for a member`);
      assert.match(res.stderr, /HTTP 403/, `${res.command}: expected HTTP 403\n${lastExchanges(res)}`);
    }
  });

  await step('user delete u1 revokes its token at once', async () => {
    await explained(openstackOk(admin, ['user', 'delete', 'u1'], debug));
    const adminToken = await getToken(server.baseUrl, server.admin);
    const url = `${server.baseUrl}/identity/v3/auth/tokens`;
    const check = await request('GET', url, { token: adminToken, headers: { 'X-Subject-Token': u1Token } });
    assert.equal(check.status, 404, describeExchange('GET', url, check));
    const projectUrl = `${server.baseUrl}/identity/v3/projects/${p1!.id}`;
    const use = await request('GET', projectUrl, { token: u1Token });
    assert.equal(use.status, 401, describeExchange('GET', projectUrl, use));
  });
});
