// Choosing the accelerator: KVM only once it has been seen to boot a kernel; TCG otherwise.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir, release } from 'node:os';

/** What the operator asked for. */
export type AccelMode = 'auto' | 'kvm' | 'tcg';

/** The decision and why, shown in logs and os-hypervisors' cpu_info. */
export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  reason: string;
}

/** The facts the decision depends on, injectable for tests. */
export interface AccelProbeDeps {
  /** /dev/kvm exists and is read-write for us. */
  kvmDevice(): boolean;
  /** A kernel to boot for the proof, or null when none is at hand. */
  probeKernel(): { kernel: string; initrd?: string } | null;
  /** Boots the kernel under KVM; true when it got as far as a panic for want of a root (i.e. really ran). */
  bootsUnderKvm(kernel: { kernel: string; initrd?: string }, timeoutMs: number): Promise<boolean>;
}

/** The reason given when nothing could be booted for the proof (not remembered: a later start may have a kernel). */
export const NO_PROBE_KERNEL = 'no kernel at hand to prove that KVM boots a guest';

/** Decides the accelerator. `kvm` is taken on trust (the operator asked); `auto` demands a proof. */
export async function chooseAccel(mode: AccelMode, deps: AccelProbeDeps, timeoutMs = 20_000): Promise<AccelChoice> {
  if (mode === 'tcg') return { accel: 'tcg', reason: 'configured' };
  if (mode === 'kvm') return { accel: 'kvm', reason: 'configured' };
  if (!deps.kvmDevice()) return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  const k = deps.probeKernel();
  if (!k) return { accel: 'tcg', reason: NO_PROBE_KERNEL };
  const ok = await deps.bootsUnderKvm(k, timeoutMs).catch(() => false);
  return ok
    ? { accel: 'kvm', reason: 'a test kernel booted under KVM' }
    : { accel: 'tcg', reason: `a test kernel did not boot under KVM within ${timeoutMs} ms` };
}

/** True when /dev/kvm can be opened read-write. */
export function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots `kernel` with `-accel kvm` and no root file system, `panic=-1` and `-no-reboot`: a kernel that really runs
 * reaches the root mount, panics, and QEMU exits by itself. A hang (as with the nested PVM flavour of KVM) runs
 * into the timeout and is killed.
 */
export async function bootsUnderKvm(
  binary: string,
  k: { kernel: string; initrd?: string },
  timeoutMs: number,
): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'gureum-kvm-probe-'));
  const log = join(dir, 'serial.log');
  try {
    const args = [
      '-accel',
      'kvm',
      '-M',
      'pc',
      '-cpu',
      'host',
      '-m',
      '128',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-no-reboot',
      '-chardev',
      `file,id=s0,path=${log}`,
      '-serial',
      'chardev:s0',
      '-kernel',
      k.kernel,
      ...(k.initrd ? ['-initrd', k.initrd] : []),
      '-append',
      'console=ttyS0 panic=-1 root=/dev/gureum-none rdinit=/gureum-none',
    ];
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(binary, args, { stdio: 'ignore' });
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('error', () => {
        clearTimeout(t);
        resolve(-1);
      });
      p.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    const text = await readFile(log, 'utf8').catch(() => '');
    return code === 0 && /Kernel panic|VFS: /.test(text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The choice, remembered in `cacheFile` per (host kernel, QEMU binary, mode) so a restart does not pay for the
 * probe again (a failed proof costs the whole timeout).
 */
export async function cachedAccel(
  cacheFile: string,
  key: string,
  decide: () => Promise<AccelChoice>,
): Promise<AccelChoice> {
  try {
    if (existsSync(cacheFile)) {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key?: string; choice?: AccelChoice };
      if (c.key === key && c.choice) return c.choice;
    }
  } catch {
    // a damaged cache is decided again
  }
  const choice = await decide();
  if (choice.reason === NO_PROBE_KERNEL) return choice;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify({ key, choice }));
  } catch {
    // not remembered; decided again next start
  }
  return choice;
}

/** The cache key: host kernel release, binary and mode. */
export function accelCacheKey(binary: string, mode: AccelMode): string {
  return `${release()}|${binary}|${mode}`;
}
