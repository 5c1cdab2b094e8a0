// A minimal guest for QEMU driver tests, made from Debian packages: the cloud kernel and a busybox initramfs whose
// /init prints a "finished" line, powers off on the ACPI button, and otherwise sleeps. Cached across runs.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { createTestCloud, type TestCloud } from '../helpers/cloud.js';
import { requireCommands } from '../helpers/requirements.js';
import { qemuProcessesUnder } from '../../src/virt/qemu/process.js';

/** The parts of the test guest. */
export interface TestGuest {
  kernel: string;
  initrd: string;
  /** A small raw "root disk" (the initramfs does not use it; the overlay machinery does). */
  disk: string;
}

/** The line the guest prints when it is up. */
export const FINISHED = 'gureum-test-guest finished';

/** After FINISHED the guest prints `TICK n` each second, n from 1: a reboot restarts the count, a resume does not. */
export const TICK = 'gureum-test-guest tick';

/** The tick numbers in a console text, in order. */
export function ticksIn(text: string): number[] {
  return [...text.matchAll(new RegExp(`${TICK} (\\d+)`, 'g'))].map((m) => Number(m[1]));
}

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
acpid -f -l /dev/null &
echo "gureum-test-guest: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "${FINISHED}"
i=0
while true; do i=$((i+1)); echo "${TICK} $i"; sleep 1; done
`;

/**
 * Skips (fails under CI) unless QEMU and what testGuest builds with are installed (apt, dpkg and gzip are essential).
 */
export function requireGuestTools(t: TestContext): boolean {
  return requireCommands(t, ['qemu-system-x86_64', 'cpio']);
}

/**
 * Builds (once) and returns the test guest. Call requireGuestTools first; a build that fails then is a
 * failure of the test (it throws), never a skip.
 */
export function testGuest(): TestGuest {
  const dir = join(tmpdir(), 'gureum-qemu-fixture-v6');
  const out: TestGuest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), disk: join(dir, 'root.raw') };
  if (existsSync(out.kernel) && existsSync(out.initrd) && existsSync(out.disk)) return out;
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'x'), { recursive: true });
  try {
    const deps = execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { encoding: 'utf8' });
    const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(deps)?.[1];
    if (!pkg) throw new Error('no linux-image-*-cloud-amd64 package known to apt');
    execFileSync('apt-get', ['download', pkg, 'busybox-static'], { cwd: work, stdio: 'ignore' });
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb')))
      execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
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
    const cpio = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], {
      cwd: root,
      input: list,
      maxBuffer: 64 * 1024 * 1024,
    });
    const gz = execFileSync('gzip', ['-1', '-c'], { input: cpio, maxBuffer: 64 * 1024 * 1024 });
    mkdirSync(dir, { recursive: true });
    // Test files run in parallel and may build at once: each writes its own temp files, the renames are atomic.
    const tmp = `.tmp-${process.pid}`;
    writeFileSync(`${out.initrd}${tmp}`, gz);
    // A bzImage carries a legacy 0x55AA boot-sector signature that the image service's inspector reads as an MBR
    // with broken partitions and refuses; QEMU's loader checks "HdrS" at 0x202 only, so the signature is cleared.
    const kernel = readFileSync(join(work, 'x', 'boot', `vmlinuz-${release}`));
    kernel[510] = 0;
    kernel[511] = 0;
    writeFileSync(`${out.kernel}${tmp}`, kernel);
    writeFileSync(`${out.disk}${tmp}`, Buffer.alloc(1024 * 1024));
    renameSync(`${out.initrd}${tmp}`, out.initrd);
    renameSync(`${out.kernel}${tmp}`, out.kernel);
    renameSync(`${out.disk}${tmp}`, out.disk);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const V = '/compute/v2.1';

/** Uploads a file as a public image; returns its id. */
export async function upload(
  c: TestCloud,
  name: string,
  file: string,
  diskFormat: string,
  containerFormat: string,
  props: Record<string, string> = {},
): Promise<string> {
  const res = await c.request('POST', '/image/v2/images', {
    token: c.adminToken,
    body: { name, disk_format: diskFormat, container_format: containerFormat, visibility: 'public', ...props },
  });
  assert.equal(res.status, 201, res.text);
  const up = await c.request('PUT', `/image/v2/images/${res.json.id}/file`, {
    token: c.adminToken,
    payload: readFileSync(file),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 204, up.text);
  return res.json.id as string;
}

/** Registers the test guest AMI-style: kernel (aki), ramdisk (ari), and a root disk pointing at both. */
export async function registerGuest(c: TestCloud, g: TestGuest): Promise<string> {
  const k = await upload(c, 'test-kernel', g.kernel, 'aki', 'aki');
  const r = await upload(c, 'test-ramdisk', g.initrd, 'ari', 'ari');
  return upload(c, 'test-guest', g.disk, 'ami', 'ami', {
    kernel_id: k,
    ramdisk_id: r,
    os_command_line:
      'console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check cryptomgr.notests 8250.nr_uarts=1',
  });
}

/** Polls until the server has `status` and no task (or is gone for DELETED). */
export async function waitStatus(c: TestCloud, id: string, status: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await c.request('GET', `${V}/servers/${id}`, { token: c.adminToken });
    if (status === 'DELETED' && res.status === 404) return null;
    last = res.json?.server;
    if (last && last.status === status && last['OS-EXT-STS:task_state'] === null) return last;
    if (last?.status === 'ERROR' && status !== 'ERROR')
      throw new Error(`server went to ERROR: ${JSON.stringify(last.fault)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `server ${id} did not reach ${status}; last status ${last?.status}, image ${last?.image?.id}, metadata ` +
      `${JSON.stringify(last?.metadata)}, fault ${JSON.stringify(last?.fault)}`,
  );
}

/** The console log through os-getConsoleOutput. */
export async function consoleOf(c: TestCloud, id: string): Promise<string> {
  const res = await c.request('POST', `${V}/servers/${id}/action`, {
    token: c.adminToken,
    body: { 'os-getConsoleOutput': {} },
  });
  assert.equal(res.status, 200, res.text);
  return String(res.json.output);
}

/** Gureum's facts about a guest (gureum:ssh, gureum:guest_network, ...) from the free-form (pre-2.48) diagnostics. */
export async function guestFacts(c: TestCloud, id: string): Promise<Record<string, string>> {
  const res = await c.request('GET', `${V}/servers/${id}/diagnostics`, {
    token: c.adminToken,
    headers: { 'OpenStack-API-Version': 'compute 2.1' },
  });
  assert.equal(res.status, 200, res.text);
  return Object.fromEntries(
    Object.entries(res.json as Record<string, unknown>)
      .filter(([k]) => k.startsWith('gureum:'))
      .map(([k, v]) => [k, String(v)]),
  );
}

/** Waits until the console shows `FINISHED` at least `n` times. */
export async function waitFinished(c: TestCloud, id: string, n = 1, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await consoleOf(c, id);
    if (out.split(FINISHED).length - 1 >= n) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`guest did not print "${FINISHED}" ${n} time(s); console:\n${out.slice(-2000)}`);
}

export async function action(c: TestCloud, id: string, body: unknown): Promise<void> {
  const res = await c.request('POST', `${V}/servers/${id}/action`, { token: c.adminToken, body });
  assert.ok([200, 202, 204].includes(res.status), `${JSON.stringify(body)}: ${res.status} ${res.text}`);
}

/** Kills any QEMU left under the cloud's data dir (tests must never leak processes). */
export function killLeftovers(dataDir: string): number {
  let n = 0;
  for (const pid of qemuProcessesUnder(join(dataDir, 'instances')).keys()) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/** A QEMU cloud, or null (test skipped) when the machine lacks QEMU or the guest's parts. */
export async function qemuCloud(t: TestContext): Promise<{ c: TestCloud; guest: TestGuest } | null> {
  if (!requireGuestTools(t)) return null;
  const guest = testGuest();
  const c = await createTestCloud({ config: { virt: { driver: 'qemu', accel: 'tcg' } } });
  t.after(async () => {
    killLeftovers(c.config.dataDir);
    await c.close();
  });
  return { c, guest: guest as TestGuest };
}
