// Wiring of this host's hypervisor: which driver, and what the QEMU driver reads images and metadata through.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { GureumConfig } from '../../config.js';
import type { ImageSource, SourceImage } from '../../disk/image-cache.js';
import { QemuDriver, resolveHypervisor } from '../../virt/index.js';
import type { ImageService } from '../image/index.js';
import { tinyCacheDir } from '../../imaging/tiny/register.js';
import { COMPUTE_SERVICE } from './adapters.js';

/** ImageSource over the in-process ImageService, acting as the compute service (Nova's image download). */
export function imageSourceOf(image: ImageService): ImageSource {
  return {
    async describe(id: string): Promise<SourceImage> {
      const i = await image.getImage(COMPUTE_SERVICE, id);
      return {
        id: i.id, diskFormat: i.disk_format, size: i.size, checksum: i.checksum, hashAlgo: i.os_hash_algo, hashValue: i.os_hash_value,
        minDisk: i.min_disk, properties: i.properties,
      };
    },
    async open(id: string): Promise<Readable> {
      return (await image.openImageData(COMPUTE_SERVICE, id)).stream;
    },
  };
}

/** A kernel for the KVM proof: GUREUM_QEMU_PROBE_KERNEL, else the tiny image's kernel once it is built. */
function probeKernel(dataDir: string): { kernel: string } | null {
  const k = process.env.GUREUM_QEMU_PROBE_KERNEL;
  if (k && existsSync(k)) return { kernel: k };
  try {
    const dir = tinyCacheDir(dataDir);
    const tiny = join(dir, 'builds', readFileSync(join(dir, 'latest'), 'utf8').trim(), 'vmlinuz');
    return existsSync(tiny) ? { kernel: tiny } : null;
  } catch {
    return null;
  }
}

/** What the QEMU driver needs of the metadata service. */
export interface GuestMetadataPort {
  proxyCommand(instanceId: string): string[];
  writeConfigDrive(instanceId: string, dest: string): Promise<void>;
}

/** The QEMU driver when the config says so (or `auto` finds QEMU); null means ComputeService's own choice (fake). */
export function createHypervisor(config: GureumConfig, image: ImageService, metadata?: GuestMetadataPort): QemuDriver | null {
  if (resolveHypervisor(config.hypervisor) !== 'qemu') return null;
  return new QemuDriver({
    dataDir: config.dataDir,
    accel: config.accel,
    images: () => imageSourceOf(image),
    probeKernel: () => probeKernel(config.dataDir),
    ...(metadata ? {
      metadataCommand: (id: string) => metadata.proxyCommand(id),
      configDrive: (spec, dest) => metadata.writeConfigDrive(spec.instanceId, dest),
    } : {}),
  });
}
