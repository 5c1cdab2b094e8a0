// The QEMU command line builder (pure) and the accelerator decision (with fake probes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCommandLine, escapeOpt, shellWord, userNetdev, type LaunchSpec } from '../../../src/virt/qemu/cmdline.js';
import { chooseAccel, type AccelProbeDeps } from '../../../src/virt/qemu/accel.js';

const uuid = '0f3c5a0e-1111-4222-8333-944455556666';

function spec(over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    binary: 'qemu-system-x86_64',
    name: 'instance-00000001',
    uuid,
    accel: 'tcg',
    machine: 'pc',
    vcpus: 1,
    memoryMb: 128,
    disks: [{ id: 'disk0', path: '/d/disk.qcow2', format: 'qcow2', boot: true, serial: 'abc' }],
    nics: [
      {
        id: 'net0',
        mac: 'fa:16:3e:00:00:01',
        backend: {
          kind: 'user',
          net: '169.254.169.0/24',
          host: '169.254.169.1',
          dhcpStart: '169.254.169.15',
          hostname: 'vm1',
          restrict: true,
          hostForwards: [{ hostAddr: '127.0.0.1', hostPort: 40022, guestPort: 22 }],
          guestForwards: [{ addr: '169.254.169.254', port: 80, command: ['/usr/bin/node', '/x/proxy.js', uuid] }],
        },
      },
    ],
    serialLog: '/d/console.log',
    qmpSocket: '/d/qmp.sock',
    vncSocket: '/d/vnc.sock',
    guestAgentSocket: '/d/qga.sock',
    pidFile: '/d/qemu.pid',
    daemonize: true,
    ...over,
  };
}

/** The value following a flag, for each occurrence. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

test(
  'the command line carries SMBIOS for OpenStack, virtio disk and NIC with the pinned MAC, QMP, VNC, agent and ' +
    'serial log',
  () => {
    const a = buildCommandLine(spec());
    assert.deepEqual(values(a, '-smbios'), [
      `type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial=${uuid},uuid=${uuid}`,
    ]);
    assert.deepEqual(values(a, '-machine'), ['pc']);
    assert.deepEqual(values(a, '-accel'), ['tcg,tb-size=64']);
    assert.deepEqual(values(a, '-cpu'), ['max']);
    assert.ok(values(a, '-drive').includes('file=/d/disk.qcow2,format=qcow2,if=none,id=disk0,discard=unmap'));
    assert.ok(values(a, '-device').includes('virtio-blk-pci,drive=disk0,id=disk0-dev,serial=abc,bootindex=1'));
    assert.ok(values(a, '-device').includes('virtio-net-pci,netdev=net0,id=net0-dev,mac=fa:16:3e:00:00:01'));
    assert.ok(values(a, '-device').includes('virtserialport,bus=vserial0.0,chardev=qga0,name=org.qemu.guest_agent.0'));
    assert.ok(values(a, '-chardev').includes('socket,id=qmp,path=/d/qmp.sock,server=on,wait=off'));
    assert.ok(values(a, '-chardev').includes('file,id=serial0,path=/d/console.log,append=on'));
    assert.deepEqual(values(a, '-vnc'), ['unix:/d/vnc.sock']);
    assert.deepEqual(values(a, '-pidfile'), ['/d/qemu.pid']);
    assert.ok(a.includes('-daemonize'));
    assert.ok(!a.includes('-incoming'));
    assert.ok(!a.includes('-kernel'));
    const noAgent = buildCommandLine(spec({ guestAgentSocket: undefined }));
    assert.ok(
      !noAgent.some((x) => x.includes('org.qemu.guest_agent.0')),
      'no agent channel unless the image asks for one',
    );
  },
);

test(
  'user networking puts the metadata forward inside the slirp network, SSH on loopback, and restricts the ' + 'guest',
  () => {
    const [netdev] = values(buildCommandLine(spec()), '-netdev');
    assert.equal(
      netdev,
      `user,id=net0,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15,restrict=on,hostname=vm1,` +
        `hostfwd=tcp:127.0.0.1:40022-:22,guestfwd=tcp:169.254.169.254:80-cmd:/usr/bin/node /x/proxy.js ${uuid}`,
    );
  },
);

test('commas in paths and guestfwd arguments are doubled; awkward arguments are quoted for g_shell_parse_argv', () => {
  assert.equal(escapeOpt('a,b,,c'), 'a,,b,,,,c');
  assert.equal(shellWord('plain-arg_1.js'), 'plain-arg_1.js');
  assert.equal(shellWord("it's a,b"), `'it'\\''s a,b'`);
  const nd = userNetdev('net0', {
    kind: 'user',
    net: '169.254.169.0/24',
    host: '169.254.169.1',
    dhcpStart: '169.254.169.15',
    restrict: false,
    hostForwards: [],
    guestForwards: [{ addr: '169.254.169.254', port: 80, command: ['/bin/proxy', 'x,y z'] }],
  });
  assert.equal(
    nd,
    "user,id=net0,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15,guestfwd=tcp:169.254.169.254:80-cmd:/bin/proxy 'x,,y z'",
  );
  const a = buildCommandLine(spec({ serialLog: '/d,x/console.log' }));
  assert.ok(values(a, '-chardev').includes('file,id=serial0,path=/d,,x/console.log,append=on'));
});

test('kernel boot, KVM, resume from a migration socket, read-only config drive and a tap backend', () => {
  const a = buildCommandLine(
    spec({
      accel: 'kvm',
      kernel: { path: '/c/k', initrd: '/c/i', append: 'root=/dev/vda console=ttyS0' },
      incomingSocket: '/d/in.sock',
      daemonize: false,
      disks: [
        { id: 'disk0', path: '/d/r', format: 'qcow2', boot: true },
        { id: 'config', path: '/d/cfg', format: 'raw', readOnly: true },
      ],
      nics: [{ id: 'net0', mac: 'fa:16:3e:00:00:02', backend: { kind: 'tap', ifname: 'tap1234' } }],
    }),
  );
  assert.deepEqual(values(a, '-cpu'), ['host']);
  assert.deepEqual(values(a, '-accel'), ['kvm']);
  assert.deepEqual(values(a, '-kernel'), ['/c/k']);
  assert.deepEqual(values(a, '-initrd'), ['/c/i']);
  assert.deepEqual(values(a, '-append'), ['root=/dev/vda console=ttyS0']);
  assert.deepEqual(values(a, '-incoming'), ['unix:/d/in.sock']);
  assert.ok(!a.includes('-daemonize'));
  assert.ok(values(a, '-drive').includes('file=/d/cfg,format=raw,if=none,id=config,discard=unmap,read-only=on'));
  assert.deepEqual(values(a, '-netdev'), ['tap,id=net0,ifname=tap1234,script=no,downscript=no,vhost=off']);
});

function deps(over: Partial<AccelProbeDeps> & { booted?: boolean } = {}): AccelProbeDeps & { probes: number } {
  const d = {
    probes: 0,
    kvmDevice: () => true,
    probeKernel: () => ({ kernel: '/k' }),
    bootsUnderKvm: async () => {
      d.probes++;
      return over.booted ?? true;
    },
    ...over,
  };
  return d;
}

test('accel auto uses KVM only after a kernel booted on it, else TCG with the reason', async () => {
  const ok = deps();
  assert.deepEqual(await chooseAccel('auto', ok), { accel: 'kvm', reason: 'a test kernel booted under KVM' });
  assert.equal(ok.probes, 1);
  const hangs = deps({ booted: false });
  const c = await chooseAccel('auto', hangs, 1234);
  assert.equal(c.accel, 'tcg');
  assert.match(c.reason, /did not boot under KVM within 1234 ms/);
  const throws = deps({
    bootsUnderKvm: async () => {
      throw new Error('spawn failed');
    },
  });
  assert.equal((await chooseAccel('auto', throws)).accel, 'tcg');
  const noDev = deps({ kvmDevice: () => false });
  assert.deepEqual(await chooseAccel('auto', noDev), { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' });
  assert.equal(noDev.probes, 0);
  assert.equal((await chooseAccel('auto', deps({ probeKernel: () => null }))).accel, 'tcg');
});

test('accel kvm and tcg are taken as configured without a probe', async () => {
  const d = deps({ booted: false });
  assert.equal((await chooseAccel('kvm', d)).accel, 'kvm');
  assert.equal((await chooseAccel('tcg', d)).accel, 'tcg');
  assert.equal(d.probes, 0);
});

test(
  'disks on the SCSI bus (hw_disk_bus=scsi) get one virtio-scsi controller and scsi-hd devices; others stay ' +
    'virtio-blk',
  () => {
    const a = buildCommandLine(
      spec({
        disks: [
          { id: 'disk0', path: '/d/disk.qcow2', format: 'qcow2', boot: true, serial: 'abc', bus: 'scsi' },
          { id: 'vol-1', path: '/v/1', format: 'raw', serial: 'v1', bus: 'scsi' },
          { id: 'config', path: '/d/cfg', format: 'raw', readOnly: true },
        ],
      }),
    );
    const devices = values(a, '-device');
    assert.equal(devices.filter((d) => d.startsWith('virtio-scsi-pci')).length, 1);
    assert.ok(devices.includes('virtio-scsi-pci,id=scsi0'));
    assert.ok(
      devices.includes('scsi-hd,bus=scsi0.0,drive=disk0,id=disk0-dev,serial=abc,bootindex=1'),
      devices.join(' '),
    );
    assert.ok(devices.includes('scsi-hd,bus=scsi0.0,drive=vol-1,id=vol-1-dev,serial=v1'), devices.join(' '));
    assert.ok(devices.includes('virtio-blk-pci,drive=config,id=config-dev'), devices.join(' '));
    assert.ok(
      !buildCommandLine(spec()).some((x) => x.startsWith('virtio-scsi-pci')),
      'no controller without a SCSI disk',
    );
  },
);
