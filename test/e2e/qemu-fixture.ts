// A minimal guest for QEMU driver tests, made from Debian packages: the cloud kernel and a busybox initramfs whose
// /init prints a "finished" line, powers off on the ACPI button, and otherwise sleeps. Cached across runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The parts of the test guest. */
export interface TestGuest {
  kernel: string;
  initrd: string;
  /** A small raw "root disk" (the initramfs does not use it; the overlay machinery does). */
  disk: string;
}

/** The line the guest prints when it is up. */
export const FINISHED = 'gureum-test-guest finished';

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
insmod /lib/evdev.ko
insmod /lib/button.ko
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\\npoweroff -f\\n' > /etc/acpi/PWRF/00000080
chmod +x /etc/acpi/PWRF/00000080
# acpid opens the event devices present when it starts: wait for the power button's.
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q 'Power Button' /proc/bus/input/devices && [ -e /dev/input/event1 ] && break; sleep 0.1; done
acpid -f >/dev/null 2>&1 &
echo "gureum-test-guest: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "${FINISHED}"
while true; do sleep 3600; done
`;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd]).status === 0;
}

/** Builds (once) and returns the test guest, or null with the reason when the tools are missing. */
export function testGuest(): TestGuest | { missing: string } {
  const dir = join(tmpdir(), 'gureum-qemu-fixture-v4');
  const out: TestGuest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), disk: join(dir, 'root.raw') };
  if (existsSync(out.kernel) && existsSync(out.initrd) && existsSync(out.disk)) return out;
  for (const t of ['apt-get', 'apt-cache', 'dpkg-deb', 'cpio', 'gzip']) if (!has(t)) return { missing: `${t} is not installed` };
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'x'), { recursive: true });
  try {
    const deps = execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { encoding: 'utf8' });
    const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(deps)?.[1];
    if (!pkg) return { missing: 'no linux-image-*-cloud-amd64 package known to apt' };
    execFileSync('apt-get', ['download', pkg, 'busybox-static'], { cwd: work, stdio: 'ignore' });
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
    const root = join(work, 'root');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'lib']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(join(work, 'x', 'bin', 'busybox'), join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    const modDir = join(work, 'x', 'lib', 'modules');
    const release = readdirSync(modDir)[0]!;
    copyFileSync(join(modDir, release, 'kernel', 'drivers', 'input', 'evdev.ko'), join(root, 'lib', 'evdev.ko'));
    copyFileSync(join(modDir, release, 'kernel', 'drivers', 'acpi', 'button.ko'), join(root, 'lib', 'button.ko'));
    writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
    const list = execFileSync('find', ['.'], { cwd: root, encoding: 'utf8' });
    const cpio = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: root, input: list, maxBuffer: 64 * 1024 * 1024 });
    const gz = execFileSync('gzip', ['-1', '-c'], { input: cpio, maxBuffer: 64 * 1024 * 1024 });
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${out.initrd}.tmp`, gz);
    // A bzImage carries a legacy 0x55AA boot-sector signature that the image service's inspector reads as an MBR
    // with broken partitions and refuses; QEMU's loader checks "HdrS" at 0x202 only, so the signature is cleared.
    const kernel = readFileSync(join(work, 'x', 'boot', `vmlinuz-${release}`));
    kernel[510] = 0;
    kernel[511] = 0;
    writeFileSync(`${out.kernel}.tmp`, kernel);
    writeFileSync(`${out.disk}.tmp`, Buffer.alloc(1024 * 1024));
    renameSync(`${out.initrd}.tmp`, out.initrd);
    renameSync(`${out.kernel}.tmp`, out.kernel);
    renameSync(`${out.disk}.tmp`, out.disk);
    return out;
  } catch (e) {
    return { missing: `could not build the test guest: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
