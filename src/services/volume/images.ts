// The volume service's view of the image service: describe an image as the caller sees it, and bring its bytes
// to a verified local file (the shared base-image cache), inspected again before qemu-img reads it.
import { type AuthContext, serviceContext } from '../auth-context.js';
import type { ImageService } from '../image/index.js';
import { ImageCache, type ImageSource } from '../../disk/image-cache.js';
import { ImageRefused, openFileSource, verifyImage } from '../../disk/inspector/index.js';
import type { ImageFile } from '../../storage/volume-backend.js';
import { badRequest } from '../../errors.js';

/** What volume creation needs to know about an image. */
export interface VolumeImage {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  virtualSize: number | null;
  minDisk: number;
  minRam: number;
  diskFormat: string | null;
  containerFormat: string | null;
  checksum: string | null;
  properties: Record<string, string>;
}

export interface VolumeImagePort {
  describe(a: AuthContext, id: string): Promise<VolumeImage>;
  /** The image's bytes as a local file, verified by hash and passed by the format inspector. */
  fetch(id: string): Promise<ImageFile>;
}

/** The volume service acting on its own behalf (reading image data into the cache), as Cinder uses its service user. */
const VOLUME_SERVICE: AuthContext = serviceContext('gureum-volume');

/** Over the in-process ImageService and the host's base-image cache (DATA_DIR/cache/images, shared with QEMU). */
export class ImageServicePort implements VolumeImagePort {
  private readonly cache: ImageCache;

  constructor(
    private readonly image: ImageService,
    cacheDir: string,
  ) {
    const source: ImageSource = {
      describe: async (id) => {
        const i = await image.getImage(VOLUME_SERVICE, id);
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
      open: async (id) => (await image.openImageData(VOLUME_SERVICE, id)).stream,
    };
    this.cache = new ImageCache(cacheDir, () => source);
  }

  async describe(a: AuthContext, id: string): Promise<VolumeImage> {
    const i = await this.image.getImage(a, id).catch(() => {
      throw badRequest(`Invalid image identifier or unable to access requested image.`);
    });
    return {
      id: i.id,
      name: i.name,
      status: i.status,
      size: i.size,
      virtualSize: i.virtual_size,
      minDisk: i.min_disk,
      minRam: i.min_ram,
      diskFormat: i.disk_format,
      containerFormat: i.container_format,
      checksum: i.checksum,
      properties: i.properties,
    };
  }

  async fetch(id: string): Promise<ImageFile> {
    const c = await this.cache.get(id);
    const src = await openFileSource(c.path);
    try {
      await verifyImage(src, c.image.diskFormat ?? 'raw');
    } catch (e) {
      if (e instanceof ImageRefused) throw new Error(`Image ${id} refused by the format inspector: ${e.message}`);
      throw e;
    } finally {
      await src.close();
    }
    return { path: c.path, format: c.format, virtualSize: c.virtualSize };
  }
}
