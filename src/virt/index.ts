// Hypervisor drivers behind one interface (driver.ts): fake/ (in memory, many hosts) and qemu/. Which one a host
// runs is decided by the composition root (src/app/drivers.ts) from virt.driver, through resolveHypervisor here.
import { binaryExists } from '../util/host-env.js';

export type * from './driver.js';
export { PowerState } from './driver.js';
export { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';
export { QemuDriver, type QemuDriverOptions } from './qemu/index.js';

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
