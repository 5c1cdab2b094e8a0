// Console tokens on their own: random, hashed at rest, single-instance, expiring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { ConsoleService } from '../../../src/services/console/index.js';
import { FakeDriver, type HypervisorDriver } from '../../../src/virt/index.js';

test('console tokens', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const db = c.controller.store.db;
  const vnc: HypervisorDriver = Object.assign(new FakeDriver(), { consoleProtocols: ['vnc'] });
  const svc = new ConsoleService({ db, driver: () => vnc, options: { tokenTtlSec: 60 } });

  await t.test('issue gives a random token valid for one instance, stored only as a hash', async () => {
    const t1 = await svc.issue('inst-a', 'fake-host', 'novnc');
    const t2 = await svc.issue('inst-a', 'fake-host', 'novnc');
    assert.notEqual(t1.token, t2.token);
    assert.ok(t1.token.length >= 43);
    const left = t1.expiresAt.getTime() - Date.now();
    assert.ok(left > 55_000 && left <= 60_000);
    assert.deepEqual(await svc.check(t1.token), { instanceId: 'inst-a', host: 'fake-host', consoleType: 'novnc' });
    const rows = await db.selectFrom('console_auth_tokens').selectAll().execute();
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => !r.token_hash.includes(t1.token) && /^[0-9a-f]{64}$/.test(r.token_hash)));
  });

  await t.test('unknown, empty, oversized and expired tokens are refused', async () => {
    assert.equal(await svc.check(''), null);
    assert.equal(await svc.check('x'.repeat(1000)), null);
    assert.equal(await svc.check('not-issued'), null);
    const t1 = await svc.issue('inst-b', 'fake-host', 'novnc');
    await db
      .updateTable('console_auth_tokens')
      .set({ expires_at: new Date(Date.now() - 1).toISOString() })
      .where('instance_id', '=', 'inst-b')
      .execute();
    assert.equal(await svc.check(t1.token), null);
    assert.deepEqual(await svc.connect(t1.token), {
      status: 401,
      message: 'The console token is invalid or has expired.',
    });
    assert.equal(await svc.purgeExpired(), 1);
  });

  await t.test('a token for an instance that does not exist opens nothing', async () => {
    const t1 = await svc.issue('inst-a', 'fake-host', 'novnc');
    const r = await svc.connect(t1.token);
    assert.equal('status' in r && r.status, 401);
    await svc.revokeInstance('inst-a');
    assert.equal(await svc.check(t1.token), null);
  });

  await t.test('only novnc, and only where the driver has consoles', async () => {
    await assert.rejects(svc.issue('inst-a', 'fake-host', 'xvpvnc'), /Unavailable console type xvpvnc/);
    const none = new ConsoleService({ db, driver: () => new FakeDriver() });
    await assert.rejects(none.issue('inst-a', 'fake-host', 'novnc'), /Unavailable console type novnc/);
    assert.equal(none.options.tokenTtlSec, 600);
  });
});
