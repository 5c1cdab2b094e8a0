// Which hypervisor driver this host runs, and what the QEMU driver reads images and metadata through.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { GureumConfig } from '../../config.js';
import type { ImageSource, SourceImage } from '../../disk/image-cache.js';
import { FakeDriver, QemuDriver, resolveHypervisor, type HypervisorDriver } from '../../virt/index.js';
import { dataPaths } from '../../util/paths.js';
import type { ImageService } from '../image/index.js';
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

/** A kernel for the KVM proof: virt.probeKernel, else the tiny image's kernel once it is built. */
function probeKernel(configured: string, dataDir: string): { kernel: string } | null {
  if (configured && existsSync(configured)) return { kernel: configured };
  try {
    const dir = dataPaths(dataDir).tinyCache;
    const tiny = join(dir, 'builds', readFileSync(join(dir, 'latest'), 'utf8').trim(), 'vmlinuz');
    return existsSync(tiny) ? { kernel: tiny } : null;
  } catch {
    // No tiny build yet (no `latest` file): the KVM proof has no kernel and the driver uses TCG.
    return null;
  }
}

/** What the QEMU driver needs of the metadata service. */
export interface GuestMetadataPort {
  proxyCommand(instanceId: string): string[];
  writeConfigDrive(instanceId: string, dest: string): Promise<void>;
}

/**
 * This host's hypervisor driver, as virt.driver says (`auto`: QEMU where it exists, else fake); null when this
 * process runs no compute agent (compute.runAgent false).
 */
/** `taps`: bridged networking (the data plane's tap of each port); absent: QEMU user networking. */
export function createHostDriver(config: GureumConfig, image: ImageService, metadata?: GuestMetadataPort, taps?: (portId: string) => string): HypervisorDriver | null {
  if (!config.compute.runAgent) return null;
  const virt = config.virt;
  if (resolveHypervisor(virt.driver, virt.qemuBinary) === 'fake') {
    const f = virt.fake;
    // One simulated host under the default name takes this machine's name, as a real compute host would.
    const hostName = f.hosts === 1 && f.hostName === 'gureum-compute' ? hostname() : f.hostName;
    return new FakeDriver({ hosts: f.hosts, hostName, vcpus: f.vcpus, memoryMb: f.memoryMb, localGb: f.localGb });
  }
  return new QemuDriver({
    dataDir: config.dataDir,
    accel: virt.accel,
    binary: virt.qemuBinary,
    images: () => imageSourceOf(image),
    probeKernel: () => probeKernel(virt.probeKernel, config.dataDir),
    ...(taps ? { tapName: taps } : {}),
    ...(metadata ? {
      metadataCommand: (id: string) => metadata.proxyCommand(id),
      configDrive: (spec, dest) => metadata.writeConfigDrive(spec.instanceId, dest),
    } : {}),
  });
}
