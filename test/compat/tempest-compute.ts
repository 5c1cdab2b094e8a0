// tempest.conf for Nova: boot images uploaded to the test server, the flavors, and the features the fake driver has.
import type { TestServer } from '../helpers/server.js';
import { getToken } from '../helpers/server.js';
import { request } from '../helpers/http.js';
import type { IniOverrides } from '../helpers/tempest.js';

/**
 * The test image: 64 KiB whose first sector is a boot sector that prints a few lines to the first serial port (BIOS
 * int 14h) and halts. On a real driver the guest then has console output, as Tempest's console tests expect of
 * CirrOS; it runs no OS, so nothing answers ACPI (see os_shutdown_timeout below).
 */
export function bootSectorImage() {
  const image = new Uint8Array(1 << 16);
  const disk = Buffer.from(image.buffer); // a view: writes land in `image`
  const code = [
    0x31,
    0xc0, // xor ax, ax
    0x8e,
    0xd8, // mov ds, ax
    0xbe,
    0x18,
    0x7c, // mov si, 0x7c18 (the message, right after this code)
    0xfc, // cld
    0xac, // next: lodsb
    0x84,
    0xc0, // test al, al
    0x74,
    0x08, // jz done
    0xb4,
    0x01, // mov ah, 1 (send the character in al)
    0x31,
    0xd2, // xor dx, dx (COM1)
    0xcd,
    0x14, // int 14h
    0xeb,
    0xf3, // jmp next
    0xf4, // done: hlt
    0xeb,
    0xfd, // jmp done
  ];
  Buffer.from(code).copy(disk, 0);
  const message = [
    'gureum tempest image',
    'no operating system here:',
    'this boot sector prints',
    'these lines to the serial port',
    'and halts',
    '',
  ].join('\r\n');
  Buffer.from(`${message}\0`, 'latin1').copy(disk, code.length);
  // One partition entry (Linux, LBA 1 to the end): a boot sector with an empty partition table is what the image
  // inspector refuses ("MBR defines no partitions"), as Glance's format_inspector does.
  Buffer.from([0x00, 0x00, 0x02, 0x00, 0x83, 0xfe, 0xff, 0xff]).copy(disk, 446);
  disk.writeUInt32LE(1, 446 + 8);
  disk.writeUInt32LE(image.length / 512 - 1, 446 + 12);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return image;
}

async function uploadImage(baseUrl: string, token: string, name: string): Promise<string> {
  const made = await request('POST', `${baseUrl}/image/v2/images`, {
    // No OS runs in the image to answer ACPI, so waiting for a clean shutdown (Nova's 60 s) only slows every stop,
    // resize and shelve on a real driver; os_shutdown_timeout=0 (a Nova image property) powers it off at once.
    // For the same reason a virtio-blk volume could never be detached (its unplug waits for the guest's ACPI
    // answer); hw_disk_bus=scsi (Nova's image property) puts the disks on virtio-scsi, which unplugs without one.
    token,
    json: {
      name,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
      os_shutdown_timeout: '0',
      hw_disk_bus: 'scsi',
    },
  });
  if (made.status !== 201) throw new Error(`tempest-compute: image create ${made.status} ${made.text}`);
  const id = made.body.id as string;
  const up = await fetch(`${baseUrl}/image/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
    body: bootSectorImage(),
  });
  if (up.status !== 204) throw new Error(`tempest-compute: image upload ${up.status} ${await up.text()}`);
  return id;
}

/**
 * [compute], [compute-feature-enabled] for a server whose Nova runs the fake driver (or QEMU, GUREUM_HYPERVISOR=qemu)
 * on one host.
 */
export async function computeTempestSettings(server: TestServer): Promise<IniOverrides> {
  const token = await getToken(server.baseUrl, server.admin);
  const image = await uploadImage(server.baseUrl, token, 'tempest-image');
  const imageAlt = await uploadImage(server.baseUrl, token, 'tempest-image-alt');
  const on = 'true';
  const off = 'false';
  // The fake driver has no guest screens; a real one (QEMU) has VNC behind Gureum's noVNC proxy.
  const realDriver = (process.env.GUREUM_HYPERVISOR ?? 'fake') !== 'fake';
  return {
    compute: {
      image_ref: image,
      image_ref_alt: imageAlt,
      flavor_ref: '42',
      flavor_ref_alt: '84',
      fixed_network_name: 'private',
      min_compute_nodes: '1',
      max_microversion: process.env.GUREUM_TEMPEST_COMPUTE_MAX_MICROVERSION ?? '2.93',
      build_timeout: '60',
    },
    'compute-feature-enabled': {
      pause: on,
      suspend: on,
      shelve: on,
      shelve_migrate: off,
      snapshot: on,
      rescue: on,
      stable_rescue: off,
      resize: on,
      cold_migration: off,
      live_migration: off,
      block_migration_for_live_migration: off,
      console_output: on,
      interface_attach: on,
      change_password: off,
      vnc_console: realDriver ? on : off,
      spice_console: off,
      rdp_console: off,
      serial_console: off,
      config_drive: off,
      metadata_service: off,
      personality: off,
      disk_config: on,
      attach_encrypted_volume: off,
      swap_volume: off,
      volume_multiattach: off,
      hostname_fqdn_sanitization: on,
      unified_limits: off,
    },
  };
}
