import type { DriverFactory, HypervisorDriver } from './driver.js';
import { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';
import { QemuDriver, type QemuDriverOptions } from './qemu/index.js';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type * from './driver.js';
export { PowerState } from './driver.js';
export { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';
export { QemuDriver, type QemuDriverOptions } from './qemu/index.js';

/** Drivers by name; the QEMU driver registers here when it arrives. */
export const drivers = new Map<string, DriverFactory>([
  ['fake', (opts) => new FakeDriver(opts as FakeDriverOptions)],
  ['qemu', (opts) => new QemuDriver(opts as unknown as QemuDriverOptions)],
]);

/** True when the QEMU system emulator is on PATH (or GUREUM_QEMU names an existing file). */
export function qemuAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.GUREUM_QEMU) return existsSync(env.GUREUM_QEMU);
  return (env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'qemu-system-x86_64')));
}

/** The driver a `hypervisor` setting means here: `auto` is qemu where QEMU exists, else fake. */
export function resolveHypervisor(setting: string, env: NodeJS.ProcessEnv = process.env): 'qemu' | 'fake' {
  if (setting === 'qemu' || setting === 'fake') return setting;
  if (setting !== 'auto') throw new Error(`unknown hypervisor "${setting}" (auto, qemu or fake)`);
  if (env.GUREUM_COMPUTE_DRIVER === 'fake') return 'fake';
  return qemuAvailable(env) ? 'qemu' : 'fake';
}

/** Builds the named driver or explains which exist. */
export function loadDriver(name: string, opts: Record<string, unknown> = {}): HypervisorDriver {
  const f = drivers.get(name);
  if (!f) throw new Error(`unknown compute driver "${name}" (known: ${[...drivers.keys()].join(', ')})`);
  return f(opts);
}
