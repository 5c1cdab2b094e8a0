import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDriver, PowerState } from '../../../src/virt/index.js';

const spec = {
  instanceId: 'i1',
  name: 'instance-00000001',
  hostname: 'vm1',
  vcpus: 1,
  memoryMb: 128,
  rootGb: 1,
  imageId: 'img',
  nics: [],
  userData: null,
  keyData: null,
  metadata: {},
  configDrive: false,
};

test('fake driver simulates numbered hosts and power states', async () => {
  const d = new FakeDriver({ hosts: 3, hostName: 'h' });
  assert.deepEqual(
    d.hosts().map((h) => h.host),
    ['h-0001', 'h-0002', 'h-0003'],
  );
  await d.spawn('h-0002', spec);
  assert.equal((await d.getInfo('h-0002', 'i1'))?.powerState, PowerState.RUNNING);
  await d.pause('h-0002', 'i1');
  assert.equal((await d.getInfo('h-0002', 'i1'))?.powerState, PowerState.PAUSED);
  await d.powerOff('h-0002', 'i1', 0);
  assert.equal((await d.getInfo('h-0002', 'i1'))?.powerState, PowerState.SHUTDOWN);
  assert.match(await d.consoleOutput('h-0002', 'i1'), /Power down/);
  await d.migrate('h-0002', 'i1', 'h-0003', spec);
  assert.equal(await d.getInfo('h-0002', 'i1'), null);
  assert.deepEqual(await d.listInstances('h-0003'), ['i1']);
  await d.destroy('h-0003', 'i1');
  await d.destroy('h-0003', 'i1');
  assert.deepEqual(await d.listInstances('h-0003'), []);
  await assert.rejects(() => d.pause('h-0001', 'missing'));
});

test('fake driver snapshot hands over a file and removes it afterwards, also when the upload fails', async () => {
  const { mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const tmp = mkdtempSync(join(tmpdir(), 'gureum-fake-snap-test-'));
  try {
    const d = new FakeDriver({ tmpDir: tmp });
    await d.spawn('fake-host', spec);
    let seen = '';
    await d.snapshot('fake-host', 'i1', async (f) => {
      assert.equal(f.diskFormat, 'raw');
      seen = readFileSync(f.path, 'utf8');
      assert.equal(f.size, Buffer.byteLength(seen));
    });
    assert.match(seen, /fake disk of i1/);
    assert.deepEqual(readdirSync(tmp), [], 'no temporary file left after an upload');
    await assert.rejects(
      () =>
        d.snapshot('fake-host', 'i1', async () => {
          throw new Error('upload broke');
        }),
      /upload broke/,
    );
    assert.deepEqual(readdirSync(tmp), [], 'no temporary file left after a failed upload');
    assert.equal(await d.consoleSocket('fake-host', 'i1'), null);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('fake driver counters grow with every read and exist only while the guest runs', async () => {
  const d = new FakeDriver();
  await d.spawn('fake-host', { ...spec, nics: [{ portId: 'p1', mac: 'fa:16:3e:00:00:01', ips: [] }] });
  const a = await d.instanceStats('fake-host', 'i1');
  const b = await d.instanceStats('fake-host', 'i1');
  assert.ok(a && b);
  assert.ok(b.cpuTimeNs > a.cpuTimeNs);
  assert.ok((b.disks[0]?.readBytes ?? 0) > (a.disks[0]?.readBytes ?? 0));
  assert.ok((b.nics[0]?.rxBytes ?? 0) > (a.nics[0]?.rxBytes ?? 0));
  assert.equal(b.nics[0]?.portId, 'p1');
  await d.powerOff('fake-host', 'i1', 0);
  assert.equal(await d.instanceStats('fake-host', 'i1'), null);
});
