import type { DriverFactory, HypervisorDriver } from './driver.js';
import { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';
import { QemuDriver, type QemuDriverOptions } from './qemu/index.js';
import { binaryExists } from '../util/host-env.js';

export type * from './driver.js';
export { PowerState } from './driver.js';
export { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';
export { QemuDriver, type QemuDriverOptions } from './qemu/index.js';

/** Drivers by name; the QEMU driver registers here when it arrives. */
export const drivers = new Map<string, DriverFactory>([
  ['fake', (opts) => new FakeDriver(opts as FakeDriverOptions)],
  ['qemu', (opts) => new QemuDriver(opts as unknown as QemuDriverOptions)],
]);

/** True when the QEMU system emulator (virt.qemuBinary: a path or a name on PATH) exists. */
export function qemuAvailable(binary = 'qemu-system-x86_64'): boolean {
  return binaryExists(binary);
}

/** The driver a `virt.driver` setting means here: `auto` is qemu where QEMU exists, else fake. */
export function resolveHypervisor(setting: string, qemuBinary = 'qemu-system-x86_64'): 'qemu' | 'fake' {
  if (setting === 'qemu' || setting === 'fake') return setting;
  if (setting !== 'auto') throw new Error(`unknown hypervisor "${setting}" (auto, qemu or fake)`);
  return qemuAvailable(qemuBinary) ? 'qemu' : 'fake';
}

/** Builds the named driver or explains which exist. */
export function loadDriver(name: string, opts: Record<string, unknown> = {}): HypervisorDriver {
  const f = drivers.get(name);
  if (!f) throw new Error(`unknown compute driver "${name}" (known: ${[...drivers.keys()].join(', ')})`);
  return f(opts);
}
