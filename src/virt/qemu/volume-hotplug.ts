// Volumes in and out of a running guest over QMP: blockdev-add + a virtio-blk device, device_del answered by the
// guest (ACPI hot-plug), block_resize. The driver records the result in the instance's saved state.
import { VolumeDetachTimeout, type VolumeDisk } from '../driver.js';
import { SCSI_CONTROLLER } from './cmdline.js';
import { volumeNodeId } from './guest-build.js';
import type { QmpClient } from './qmp.js';
import { hasIoLimits, qmpThrottleArgs } from '../io-limits.js';

/**
 * Adds the volume's block node and its device, on the bus of the guest's own disks (`scsi`: the virtio-scsi
 * controller, else virtio-blk); a half-made attachment is taken back before the error goes up.
 */
export async function plugVolume(m: QmpClient, disk: VolumeDisk, scsi: boolean): Promise<void> {
  const node = volumeNodeId(disk.volumeId);
  await m.run('blockdev-add', {
    driver: disk.format,
    'node-name': node,
    'read-only': !!disk.readOnly,
    discard: 'unmap',
    file: { driver: 'file', filename: disk.path, 'read-only': !!disk.readOnly },
  });
  try {
    await m.deviceAdd({
      ...(scsi ? { driver: 'scsi-hd', bus: `${SCSI_CONTROLLER}.0` } : { driver: 'virtio-blk-pci' }),
      drive: node,
      id: `${node}-dev`,
      serial: disk.volumeId.slice(0, 20),
    });
  } catch (e) {
    // Revert the half-made attachment: the block node goes, the guest never saw a device. The device_add error is
    // the one the caller needs; a failing blockdev-del here would only hide it.
    await m.run('blockdev-del', { 'node-name': node }).catch(() => {});
    throw e;
  }
  if (hasIoLimits(disk.ioLimits)) {
    // The limits were checked when the QoS specs were saved, so QEMU refusing them here is exceptional: the device
    // is asked to go again (the guest may keep it until it answers) and the attach fails with QEMU's reason.
    try {
      await m.run('block_set_io_throttle', qmpThrottleArgs(`${node}-dev`, disk.ioLimits));
    } catch (e) {
      await m.deviceDel(`${node}-dev`).catch(() => {});
      throw e;
    }
  }
}

/**
 * Asks the guest to release the volume and waits up to `timeoutMs` for it; throws VolumeDetachTimeout when it does not.
 */
export async function unplugVolume(m: QmpClient, volumeId: string, timeoutMs: number): Promise<void> {
  const node = volumeNodeId(volumeId);
  // When query-block fails the device is assumed present: asking to remove a missing device is harmless.
  const present = await m.run<{ qdev?: string; id?: string }[]>('query-block').then(
    (blocks) => blocks.some((b) => b.qdev?.includes(`${node}-dev`) || b.id === `${node}-dev`),
    () => true,
  );
  if (!present) return;
  // device_del only asks: the guest acknowledges through ACPI hot-plug, and QEMU then says DEVICE_DELETED.
  const gone = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => {
      m.events.off('event', onEvent);
      resolve(false);
    }, timeoutMs);
    const onEvent = (e: { event: string; data?: Record<string, unknown> }) => {
      if (e.event === 'DEVICE_DELETED' && e.data?.device === `${node}-dev`) {
        clearTimeout(t);
        m.events.off('event', onEvent);
        resolve(true);
      }
    };
    m.events.on('event', onEvent);
  });
  await m.deviceDel(`${node}-dev`);
  if (!(await gone)) {
    throw new VolumeDetachTimeout(
      `The guest did not release volume ${volumeId} within ${Math.round(timeoutMs / 1000)} s; it stays attached.`,
    );
  }
  // A hot-plugged node must be removed explicitly; a -drive from the command line went with its device (then this
  // fails, which is the expected answer).
  await m.run('blockdev-del', { 'node-name': node }).catch(() => {});
}

/** Grows the volume's node online (QEMU's newer node-name form, else the older device form). */
export async function resizeVolume(m: QmpClient, volumeId: string, bytes: number): Promise<void> {
  await m.run('block_resize', { 'node-name': volumeNodeId(volumeId), size: bytes }).catch(async () => {
    await m.run('block_resize', { device: volumeNodeId(volumeId), size: bytes });
  });
}
