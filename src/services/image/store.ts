// The local filesystem store: DATA_DIR/images/<id> holds active data, images/staging/<id> staged data,
// images/.tmp/ what is being received. Data is hashed while it streams in, fsync'd, then renamed into place,
// so a crash never leaves a half-written file under an image's name.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { CloudError, badRequest } from '../../errors.js';

/** What a completed receive produced: a temp file and its digests. */
export interface Received {
  tmpPath: string;
  size: number;
  md5: string;
  sha512: string;
}

/** Limits on one incoming stream. */
export interface ReceiveLimits {
  /** Refuse with 413 past this many bytes. */
  maxBytes: number;
  /** The Content-Length the client announced, if any: the body must be exactly this long. */
  expectedBytes?: number;
  /** Message for the 413 (quota or size cap). */
  tooLargeMessage?: string;
}

/** Hashes and counts bytes as they pass; stops the stream when it grows past the limit. */
class Digest extends Transform {
  readonly md5: Hash = createHash('md5');
  readonly sha512: Hash = createHash('sha512');
  bytes = 0;
  constructor(private readonly limits: ReceiveLimits) {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxBytes) {
      done(new CloudError('PayloadTooLarge', this.limits.tooLargeMessage ?? 'Image exceeds the storage quota.'));
      return;
    }
    this.md5.update(chunk);
    this.sha512.update(chunk);
    done(null, chunk);
  }
}

export class LocalStore {
  readonly root: string;
  readonly tmpDir: string;
  readonly stagingDir: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'images');
    this.tmpDir = join(this.root, '.tmp');
    this.stagingDir = join(this.root, 'staging');
    for (const d of [this.root, this.tmpDir, this.stagingDir]) mkdirSync(d, { recursive: true, mode: 0o750 });
  }

  dataPath(id: string): string {
    return join(this.root, id);
  }

  stagingPath(id: string): string {
    return join(this.stagingDir, id);
  }

  /** A fresh name in the temp area. */
  tempPath(id: string, tag = 'part'): string {
    return join(this.tmpDir, `${id}.${tag}.${randomBytes(6).toString('hex')}`);
  }

  /** Streams `body` into a temp file with md5 and sha512 computed in the same pass; removes it on any failure. */
  async receive(id: string, body: Readable, limits: ReceiveLimits): Promise<Received> {
    const tmpPath = this.tempPath(id);
    const fh = await open(tmpPath, 'wx', 0o640);
    const digest = new Digest(limits);
    try {
      let aborted = false;
      const onAbort = () => { aborted = true; };
      body.once('aborted', onAbort);
      try {
        await pipeline(body, digest, createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark: 1024 * 1024 }));
      } catch (e) {
        if (e instanceof CloudError) throw e;
        const code = (e as { code?: string }).code;
        if (aborted || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
          throw badRequest('The image data upload was interrupted before it was complete; nothing was stored.');
        }
        throw e;
      } finally {
        body.off('aborted', onAbort);
      }
      if ((body as { complete?: boolean }).complete === false) {
        throw badRequest('The image data upload was interrupted before it was complete; nothing was stored.');
      }
      if (limits.expectedBytes !== undefined && digest.bytes !== limits.expectedBytes) {
        throw badRequest(`Received ${digest.bytes} bytes but Content-Length said ${limits.expectedBytes}; nothing was stored.`);
      }
      await fh.sync();
      await fh.close();
      return { tmpPath, size: digest.bytes, md5: digest.md5.digest('hex'), sha512: digest.sha512.digest('hex') };
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw e;
    }
  }

  /** Hashes an existing file (after conversion or OVA extraction). */
  async hashFile(path: string): Promise<{ size: number; md5: string; sha512: string }> {
    const digest = new Digest({ maxBytes: Number.MAX_SAFE_INTEGER });
    // The digest stream is the last one that matters: its output is drained and dropped.
    await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), digest, async (src: AsyncIterable<Buffer>) => {
      for await (const _ of src) { /* drain */ }
    });
    return { size: digest.bytes, md5: digest.md5.digest('hex'), sha512: digest.sha512.digest('hex') };
  }

  /** Moves a finished temp file to its final name (same filesystem, atomic) and syncs the directory. */
  async commit(tmpPath: string, finalPath: string): Promise<void> {
    await rename(tmpPath, finalPath);
    const dir = await open(dirname(finalPath), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  /** Bytes [start, end] (inclusive) of an image's data. */
  read(id: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.dataPath(id), { highWaterMark: 1024 * 1024, ...(range ?? {}) });
  }

  /** Removes everything left in the temp area (after a crash). */
  sweepTemp(): void {
    for (const f of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, f), { force: true, recursive: true });
  }
}
