// The host's base-image cache reads images from the image service as the compute service (Nova's image download).
import type { Readable } from 'node:stream';
import type { ImageSource, SourceImage } from '../../disk/image-cache.js';
import type { ImageService } from '../image/index.js';
import { COMPUTE_SERVICE } from './adapters.js';

/** ImageSource over the in-process ImageService. */
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
