// The image service (Glance v2): records, data, sharing, quotas, metadata definitions.
import { defaults, type GureumConfig } from '../../config.js';
import type { Readable } from 'node:stream';
import type { ReadStream } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { imageOptions, STORE_ID, type Image, type ImageDeps, type ImageServiceOptions } from './common.js';
import { Images } from './images.js';
import { Members } from './members.js';
import { Quotas } from './quotas.js';
import { Tasks } from './tasks.js';
import { LocalStore } from './store.js';
import { ImageData } from './data.js';
import { Metadefs } from './metadefs.js';
import { listImages, parseListQuery, type RawQuery } from './list.js';

export type { Image, ImageServiceOptions } from './common.js';
export type { PatchOp } from './images.js';
export type { ImageMember } from './members.js';
export type { ImageTask } from './tasks.js';
export type { Download, ImportRequest } from './data.js';
export type { Usage } from './quotas.js';
export type { RawQuery } from './list.js';
export { DISK_FORMATS, CONTAINER_FORMATS, STORE_ID, IMPORT_METHODS } from './common.js';

/**
 * The image service. The API layer and other services (Nova: boot from an image, snapshots) call it with the
 * caller's AuthContext; every method applies Glance's visibility and ownership rules itself.
 */
export class ImageService {
  readonly images: Images;
  readonly members: Members;
  readonly quotas: Quotas;
  readonly tasks: Tasks;
  readonly store: LocalStore;
  readonly data: ImageData;
  readonly metadefs: Metadefs;
  readonly options: ImageServiceOptions;
  private readonly d: ImageDeps;

  constructor(deps: {
    db: Kysely<Database>;
    dataDir: string;
    config?: GureumConfig['image'];
    options?: Partial<ImageServiceOptions>;
  }) {
    this.options = { ...imageOptions(deps.config ?? defaults.image), ...deps.options };
    this.d = { db: deps.db, dataDir: deps.dataDir, options: this.options };
    this.images = new Images(this.d);
    this.members = new Members(this.d, this.images);
    this.quotas = new Quotas(this.d);
    this.tasks = new Tasks(this.d);
    this.store = new LocalStore(deps.dataDir);
    this.data = new ImageData(this.d, this.images, this.quotas, this.tasks, this.store);
    this.metadefs = new Metadefs(this.d);
  }

  /** Puts interrupted uploads and imports back in a consistent state (call once at start). */
  recover(): Promise<void> {
    return this.data.recover();
  }

  /** Waits for running import jobs (tests, shutdown). */
  idle(): Promise<void> {
    return this.data.idle();
  }

  // --- the calls other services make

  /** The image as `a` may see it; 404 when it does not exist or is not visible to the caller. */
  getImage(a: AuthContext, id: string): Promise<Image> {
    return this.images.get(a, id);
  }

  /** True when the caller may see (and boot) the image. */
  async isVisible(a: AuthContext, id: string): Promise<boolean> {
    const r = await this.images.find(id);
    return !!r && (await this.images.canSee(a, r));
  }

  /**
   * The data of an active image the caller may see, for a host's base-image cache: the stream plus what to
   * verify it against. Deactivated images are refused to non-admins, as downloads are.
   */
  async openImageData(
    a: AuthContext,
    id: string,
  ): Promise<{ image: Image; stream: ReadStream; size: number; checksum: string | null; path: string }> {
    const image = await this.images.get(a, id);
    const dl = await this.data.download(a, id);
    if (!dl) throw badRequest(`Image ${id} has no data (status ${image.status}).`);
    return { image, stream: dl.stream, size: dl.size, checksum: dl.checksum, path: this.store.dataPath(id) };
  }

  /** Creates an image record (queued), as POST /v2/images does (snapshots use this, then uploadImageData). */
  async createImage(a: AuthContext, body: Record<string, unknown>): Promise<Image> {
    await this.quotas.checkCreate(a.projectId);
    return this.images.create(a, body);
  }

  /** Streams data into a queued image: hashed, inspected, stored; the image is active when this resolves. */
  async uploadImageData(a: AuthContext, id: string, data: Readable, contentLength?: number): Promise<Image> {
    await this.data.upload(a, id, data, contentLength);
    return this.images.get(a, id);
  }

  // --- what the API needs beyond that

  async list(a: AuthContext, query: RawQuery): Promise<{ images: Image[]; next?: string }> {
    const q = parseListQuery(query, this.d);
    const { images, hasMore } = await listImages(this.d, this.images, a, q);
    if (!hasMore || images.length === 0) return { images };
    return { images, next: images[images.length - 1]!.id };
  }

  async deleteImage(a: AuthContext, id: string): Promise<void> {
    await this.data.delete(a, id);
  }

  async imageTasks(a: AuthContext, id: string) {
    const r = await this.images.visibleRow(a, id);
    if (!this.images.canModify(a, r)) throw notFound(`No image found with ID ${id}`);
    return this.tasks.forImage(id);
  }

  /** GET /v2/info/stores. */
  stores(): { id: string; description: string; default: boolean }[] {
    return [{ id: STORE_ID, description: 'Local filesystem store under the data directory', default: true }];
  }
}
