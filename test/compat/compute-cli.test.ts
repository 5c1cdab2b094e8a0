// The compute walk-through of issue 5 with Debian's stock `openstack` CLI against a real `gureum up` (fake driver).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getToken, startServer } from '../helpers/server.js';
import { openstack, openstackJson, openstackOk, type CliIdentity, explained } from '../helpers/openstack.js';
import { requireCommands, skipAfterFailedStep } from '../helpers/requirements.js';

test('compute walk-through with the stock openstack CLI', { timeout: 900_000 }, async (t) => {
  if (!requireCommands(t, ['openstack'])) return;
  const server = await startServer({ env: { GUREUM_COMPUTE_DRIVER: 'fake', GUREUM_HYPERVISOR: 'fake' } });
  const work = mkdtempSync(join(tmpdir(), 'gureum-cli-'));
  t.after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const admin: CliIdentity = { cloudsYaml: server.cloudsYaml };
  const json = <T = any>(args: string[]) => explained(openstackJson<T>(admin, args, { debug: true }));
  const ok = (args: string[]) => explained(openstackOk(admin, args, { debug: true }));
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
  const waitStatus = async (want: string) => {
    const deadline = Date.now() + 60_000;
    let last: any;
    while (Date.now() < deadline) {
      last = await json(['server', 'show', 'vm1']);
      if (last.status === want && !last['OS-EXT-STS:task_state']) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`vm1 did not reach ${want}: ${JSON.stringify(last)}`);
  };

  await step('image create tiny (the boot image)', async () => {
    const file = join(work, 'tiny.img');
    writeFileSync(file, Buffer.alloc(1 << 16, 1));
    const img = await json([
      'image',
      'create',
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      '--public',
      '--file',
      file,
      'tiny',
    ]);
    assert.equal(img.name, 'tiny');
  });
  await step('flavor create --vcpus 1 --ram 256 --disk 1 test.tiny', async () => {
    const f = await json(['flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'test.tiny']);
    assert.equal(f.name, 'test.tiny');
    assert.equal(f.ram, 256);
  });
  await step('keypair create test-key prints the private key once', async () => {
    const pem = await ok(['keypair', 'create', 'test-key']);
    assert.match(pem, /-----BEGIN (RSA|OPENSSH) PRIVATE KEY-----/);
    writeFileSync(join(work, 'test-key.pem'), pem, { mode: 0o600 });
    const shown = await json(['keypair', 'show', 'test-key']);
    assert.ok(shown.fingerprint);
    assert.ok(!JSON.stringify(shown).includes('PRIVATE KEY'));
  });
  await step(
    'server create --image tiny --flavor m1.nano --network private --key-name test-key vm1 reaches ACTIVE',
    async () => {
      await json([
        'server',
        'create',
        '--image',
        'tiny',
        '--flavor',
        'm1.nano',
        '--network',
        'private',
        '--key-name',
        'test-key',
        '--wait',
        'vm1',
      ]);
      const s = await waitStatus('ACTIVE');
      assert.match(JSON.stringify(s.addresses), /private/);
      assert.equal(s.key_name, 'test-key');
    },
  );
  const action = (args: string[], want: string) =>
    step(`server ${args.join(' ')} -> ${want}`, async () => {
      await ok(['server', ...args, 'vm1']);
      await waitStatus(want);
    });
  await action(['pause'], 'PAUSED');
  await action(['unpause'], 'ACTIVE');
  await action(['suspend'], 'SUSPENDED');
  await action(['resume'], 'ACTIVE');
  await action(['stop'], 'SHUTOFF');
  await action(['start'], 'ACTIVE');
  await action(['reboot'], 'ACTIVE');
  await action(['reboot', '--hard'], 'ACTIVE');
  await action(['rebuild', '--image', 'tiny'], 'ACTIVE');
  await step('server lock, then unlock (lock refusals are covered by test/api/compute/bad-input.test.ts)', async () => {
    await ok(['server', 'lock', 'vm1']);
    const locked = await json(['--os-compute-api-version', '2.9', 'server', 'show', 'vm1']);
    assert.ok(locked.locked === true || locked.locked === 'True', `locked: ${JSON.stringify(locked.locked)}`);
    await ok(['server', 'unlock', 'vm1']);
  });
  await action(['shelve'], 'SHELVED_OFFLOADED');
  await action(['unshelve'], 'ACTIVE');
  await step('server image create makes an image owned by the project', async () => {
    await ok(['server', 'image', 'create', '--name', 'vm1-snap', '--wait', 'vm1']);
    const img = await json(['image', 'show', 'vm1-snap']);
    assert.equal(img.status, 'active');
    assert.equal(img.min_disk, 1);
  });
  await step('console log show prints what the API returns, and --lines N its last N lines', async () => {
    // Compared with the API's own answer, not with a line one driver happens to print.
    const id = (await json(['server', 'show', 'vm1'])).id as string;
    const res = await fetch(`${server.baseUrl}/compute/v2.1/servers/${id}/action`, {
      method: 'POST',
      headers: { 'x-auth-token': await getToken(server.baseUrl, server.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ 'os-getConsoleOutput': {} }),
    });
    assert.equal(res.status, 200);
    const apiLines = String(((await res.json()) as { output: string }).output)
      .split('\n')
      .filter((l) => l.trim() !== '');
    assert.ok(apiLines.length >= 2, `the console has output: ${JSON.stringify(apiLines)}`);
    const cliLines = (await ok(['console', 'log', 'show', 'vm1'])).split('\n').map((l) => l.trimEnd());
    for (const line of apiLines)
      assert.ok(cliLines.includes(line.trimEnd()), `the CLI printed ${JSON.stringify(line)}`);
    const last = (await ok(['console', 'log', 'show', '--lines', '1', 'vm1']))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trimEnd());
    assert.deepEqual(last, [apiLines.at(-1)!.trimEnd()]);
  });
  await step('server delete', async () => {
    await ok(['server', 'delete', '--wait', 'vm1']);
    const res = await openstack(admin, ['server', 'show', 'vm1']);
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /No server with a name or ID of 'vm1' exists|could not be found/);
  });
});
