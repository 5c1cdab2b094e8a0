import type { DriverFactory, HypervisorDriver } from './driver.js';
import { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';

export type * from './driver.js';
export { PowerState } from './driver.js';
export { FakeDriver, type FakeDriverOptions } from './fake/fake-driver.js';

/** Drivers by name; the QEMU driver registers here when it arrives. */
export const drivers = new Map<string, DriverFactory>([
  ['fake', (opts) => new FakeDriver(opts as FakeDriverOptions)],
]);

/** Builds the named driver or explains which exist. */
export function loadDriver(name: string, opts: Record<string, unknown> = {}): HypervisorDriver {
  const f = drivers.get(name);
  if (!f) throw new Error(`unknown compute driver "${name}" (known: ${[...drivers.keys()].join(', ')})`);
  return f(opts);
}
