// A volume's front-end QoS as QEMU throttling: block_set_io_throttle after the hot-plug (against the fake QMP peer)
// and the -drive throttling.* options when a guest starts with the volume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QmpClient } from '../../../src/virt/qemu/qmp.js';
import { plugVolume } from '../../../src/virt/qemu/volume-hotplug.js';
import { volumeDiskSpec, volumeNodeId } from '../../../src/virt/qemu/guest-build.js';
import { buildCommandLine, type LaunchSpec } from '../../../src/virt/qemu/cmdline.js';
import { driveThrottleOptions, qmpThrottleArgs } from '../../../src/virt/io-limits.js';
import { fakeQemu } from '../../helpers/fake-qmp.js';

const volumeId = '5e4c7a1e-0000-4000-8000-00000000abcd';
const disk = {
  volumeId,
  path: '/d/volume-x',
  format: 'qcow2',
  device: '/dev/vdb',
  ioLimits: { read_iops_sec: 2000, total_bytes_sec: 10_485_760 },
};

test('a hot-plugged volume with limits gets block_set_io_throttle on its device (base limits 0)', async () => {
  const args: Record<string, Record<string, unknown> | undefined> = {};
  const peer = await fakeQemu((cmd) => {
    args[cmd.execute] = cmd.arguments;
    return { return: {} };
  });
  const m = await QmpClient.connect(peer.path);
  try {
    await plugVolume(m, disk, false);
    assert.deepEqual(peer.seen.slice(1), ['blockdev-add', 'device_add', 'block_set_io_throttle']);
    const node = volumeNodeId(volumeId);
    assert.deepEqual(args.block_set_io_throttle, {
      id: `${node}-dev`,
      bps: 10_485_760,
      bps_rd: 0,
      bps_wr: 0,
      iops: 0,
      iops_rd: 2000,
      iops_wr: 0,
    });
  } finally {
    m.close();
    peer.close();
  }
});

test('without limits nothing is throttled; a refused throttle asks the device to go and fails the attach', async () => {
  const peer = await fakeQemu((cmd) =>
    cmd.execute === 'block_set_io_throttle'
      ? { error: { class: 'GenericError', desc: 'bps and bps_rd/bps_wr cannot be used at the same time' } }
      : { return: {} },
  );
  const m = await QmpClient.connect(peer.path);
  try {
    const { ioLimits: _none, ...plain } = disk;
    await plugVolume(m, plain, false);
    assert.deepEqual(peer.seen.slice(1), ['blockdev-add', 'device_add']);
    peer.seen.length = 0;
    await assert.rejects(plugVolume(m, disk, true), /cannot be used at the same time/);
    // (query-status is the client's own check that QEMU is still alive after a refusal)
    assert.deepEqual(
      peer.seen.filter((x) => x !== 'query-status'),
      ['blockdev-add', 'device_add', 'block_set_io_throttle', 'device_del'],
    );
  } finally {
    m.close();
    peer.close();
  }
});

test('a guest started with a throttled volume has the limits on its -drive', () => {
  const s = {
    binary: 'qemu-system-x86_64',
    name: 'instance-00000001',
    uuid: volumeId,
    accel: 'tcg',
    machine: 'pc',
    vcpus: 1,
    memoryMb: 128,
    disks: [volumeDiskSpec(disk)],
    nics: [],
    serialLog: '/d/console.log',
    qmpSocket: '/d/qmp.sock',
    vncSocket: '/d/vnc.sock',
    pidFile: '/d/qemu.pid',
    daemonize: true,
  } as LaunchSpec;
  const drive = buildCommandLine(s).find((a) => a.startsWith('file=/d/volume-x'));
  assert.match(drive ?? '', /,throttling\.bps-total=10485760/);
  assert.match(drive ?? '', /,throttling\.iops-read=2000/);
  assert.equal(driveThrottleOptions(undefined), '');
  assert.equal(driveThrottleOptions({ total_iops_sec_max: 0 }), '');
  assert.equal(qmpThrottleArgs('d', { write_bytes_sec_max: 5, size_iops_sec: 4096 }).bps_wr_max, 5);
});
