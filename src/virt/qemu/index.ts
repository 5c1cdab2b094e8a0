// The QEMU driver's public surface.
export { QemuDriver, USER_NET, type QemuDriverOptions, type GuestDetails } from './qemu-driver.js';
export { QmpClient, QmpCommandError, QmpDisconnectedError, type QmpEvent, type QmpStatus } from './qmp.js';
export {
  buildCommandLine,
  escapeOpt,
  shellWord,
  type LaunchSpec,
  type NicBackend,
  type NicSpec,
  type DiskSpec,
} from './cmdline.js';
export { chooseAccel, type AccelMode, type AccelChoice } from './accel.js';
