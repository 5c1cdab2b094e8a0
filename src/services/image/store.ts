// The local filesystem store: DATA_DIR/images/<id> holds active data, images/staging/<id> staged data,
// images/.tmp/ what is being received. Data is hashed while it streams in, fsync'd, then renamed into place,
// so a crash never leaves a half-written file under an image's name.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { CloudError, badRequest } from '../../errors.js';
import { digestFor, type ParallelDigestOptions } from './digests.js';

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

export class LocalStore {
  readonly root: string;
  readonly tmpDir: string;
  readonly stagingDir: string;

  /** `digest`: how uploads are hashed (tests substitute the worker or the threshold for threads). */
  constructor(
    dataDir: string,
    private readonly digest: ParallelDigestOptions & { parallelFromBytes?: number } = {},
  ) {
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

  /**
   * Streams `body` into a temp file with md5 and sha512 computed in the same pass (on two threads for large or
   * unsized uploads); answers only once the data is synced and both digests are known; removes it on any failure.
   */
  async receive(id: string, body: Readable, limits: ReceiveLimits): Promise<Received> {
    const tmpPath = this.tempPath(id);
    const fh = await open(tmpPath, 'wx', 0o640);
    const digest = digestFor(limits, this.digest);
    try {
      let aborted = false;
      const onAbort = () => {
        aborted = true;
      };
      body.once('aborted', onAbort);
      try {
        await pipeline(
          body,
          digest,
          createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark: 1024 * 1024 }),
        );
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
        throw badRequest(
          `Received ${digest.bytes} bytes but Content-Length said ${limits.expectedBytes}; nothing was stored.`,
        );
      }
      // The last hashing and the fsync overlap; both must succeed.
      const [digests, synced] = await Promise.allSettled([digest.digests(), fh.sync()]);
      if (synced.status === 'rejected') throw synced.reason;
      if (digests.status === 'rejected') throw digests.reason;
      await fh.close();
      return { tmpPath, size: digest.bytes, ...digests.value };
    } catch (e) {
      digest.abort();
      // The write's error is the one to report; a close failing after it adds nothing (the file is removed next).
      await fh.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw e;
    }
  }

  /** Hashes an existing file (after conversion or OVA extraction). */
  async hashFile(path: string): Promise<{ size: number; md5: string; sha512: string }> {
    const digest = digestFor(
      { maxBytes: Number.MAX_SAFE_INTEGER, expectedBytes: (await stat(path)).size },
      this.digest,
    );
    try {
      // The digest stream is the last one that matters: its output is drained and dropped.
      await pipeline(
        createReadStream(path, { highWaterMark: 1024 * 1024 }),
        digest,
        async (src: AsyncIterable<Buffer>) => {
          for await (const _ of src) {
            /* drain */
          }
        },
      );
      return { size: digest.bytes, ...(await digest.digests()) };
    } catch (e) {
      digest.abort();
      throw e;
    }
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
