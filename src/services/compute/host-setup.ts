// What the QEMU driver reads images and metadata through (the composition root, src/app/drivers.ts, builds the
// driver and hands it these).
import type { Readable } from 'node:stream';
import type { ImageSource, SourceImage } from '../../disk/image-cache.js';
import type { ImageService } from '../image/index.js';
import { COMPUTE_SERVICE } from './adapters.js';

/** ImageSource over the in-process ImageService, acting as the compute service (Nova's image download). */
export function imageSourceOf(image: ImageService): ImageSource {
  return {
    async describe(id: string): Promise<SourceImage> {
      const i = await image.getImage(COMPUTE_SERVICE, id);
      return {
        id: i.id,
        diskFormat: i.disk_format,
        size: i.size,
        checksum: i.checksum,
        hashAlgo: i.os_hash_algo,
        hashValue: i.os_hash_value,
        minDisk: i.min_disk,
        properties: i.properties,
      };
    },
    async open(id: string): Promise<Readable> {
      return (await image.openImageData(COMPUTE_SERVICE, id)).stream;
    },
  };
}

/** What the QEMU driver needs of the metadata service. */
export interface GuestMetadataPort {
  proxyCommand(instanceId: string): string[];
  writeConfigDrive(instanceId: string, dest: string): Promise<void>;
}
