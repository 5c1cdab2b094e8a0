// md5 and sha512 of image data as it streams past, counted and capped. Two ways, one interface:
// - InlineDigest hashes on the calling thread (small uploads: no thread start-up for a few kilobytes);
// - ParallelDigest copies each chunk into a bounded shared ring and lets one worker thread per algorithm hash it,
//   so the two digests run beside each other and beside the HTTP parsing and file writes of the main thread.
//   Memory stays bounded: when the slower worker is a full ring behind, the stream waits (back-pressure).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { CloudError } from '../../errors.js';
import {
  ABORTED,
  ENDED,
  HEAD,
  PROGRESS,
  READER_TAIL,
  SIGNAL,
  STATE,
  type DigestWorkerData,
  type DigestWorkerResult,
} from './digest-ring.js';

export interface Digests {
  md5: string;
  sha512: string;
}

/** What every digest stream offers the store. */
export interface StreamDigest extends Transform {
  readonly bytes: number;
  /** Resolves once every byte written has been hashed (call after the stream has finished). */
  digests(): Promise<Digests>;
  /** Stops any hashing thread; the digests are not wanted (the upload failed). */
  abort(): void;
}

const ALGORITHMS = ['md5', 'sha512'] as const;

/** Counts bytes and refuses past the cap; subclasses hash. */
abstract class CountingDigest extends Transform implements StreamDigest {
  bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly tooLargeMessage: string,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }
  abstract digests(): Promise<Digests>;
  abstract abort(): void;
  protected abstract feed(chunk: Buffer): void | Promise<void>;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new CloudError('PayloadTooLarge', this.tooLargeMessage));
      return;
    }
    const fed = this.feed(chunk);
    if (fed)
      fed.then(
        () => done(null, chunk),
        (e: Error) => done(e),
      );
    else done(null, chunk);
  }
}

export class InlineDigest extends CountingDigest {
  private readonly hashes: Hash[] = ALGORITHMS.map((a) => createHash(a));
  protected feed(chunk: Buffer): void {
    for (const h of this.hashes) h.update(chunk);
  }
  async digests(): Promise<Digests> {
    const [md5, sha512] = this.hashes.map((h) => h.digest('hex'));
    return { md5: md5!, sha512: sha512! };
  }
  abort(): void {}
}

export interface ParallelDigestOptions {
  /** Ring size in bytes, a power of two (default 2 MiB): the most data waiting to be hashed. */
  ringBytes?: number;
  /** The worker script (tests substitute a failing or stalled one). */
  workerUrl?: URL;
}

/** Atomics.waitAsync (Node 16+; TypeScript types it from lib es2024, which this project does not target). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

const DEFAULT_WORKER = new URL('./digest-worker.js', import.meta.url);

export class ParallelDigest extends CountingDigest {
  private readonly ring: Uint8Array;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[];
  private readonly results: Promise<DigestWorkerResult>[];
  private head = 0;
  private failure: Error | undefined;

  constructor(maxBytes: number, tooLargeMessage: string, options: ParallelDigestOptions = {}) {
    super(maxBytes, tooLargeMessage);
    const size = options.ringBytes ?? 2 * 1024 * 1024;
    if (size < 1024 || (size & (size - 1)) !== 0 || size >= 2 ** 30)
      throw new Error(`ring size ${size} must be a power of two between 1 KiB and 1 GiB`);
    const ring = new SharedArrayBuffer(size);
    const control = new SharedArrayBuffer((READER_TAIL + ALGORITHMS.length) * 4);
    this.ring = new Uint8Array(ring);
    this.ctl = new Int32Array(control);
    this.workers = ALGORITHMS.map((algorithm, reader) => {
      const workerData: DigestWorkerData = { ring, control, algorithm, reader };
      return new Worker(options.workerUrl ?? DEFAULT_WORKER, { workerData });
    });
    this.results = this.workers.map(
      (w) =>
        new Promise<DigestWorkerResult>((resolve, reject) => {
          let answered = false;
          w.once('message', (m: DigestWorkerResult) => {
            answered = true;
            resolve(m);
          });
          w.once('error', (e) => {
            this.fail(e);
            reject(e);
          });
          w.once('exit', (code) => {
            if (answered) return;
            const e = new Error(`the hashing thread exited (code ${code}) before its digest was known`);
            this.fail(e);
            reject(e);
          });
        }),
    );
    // Rejections are read through digests() or surface as a stream error; never unhandled.
    for (const r of this.results) r.catch(() => {});
  }

  /** Bytes copied into the ring that the slowest worker has not hashed yet (never more than the ring's size). */
  unreadBytes(): number {
    let most = 0;
    for (let i = 0; i < this.workers.length; i++)
      most = Math.max(most, (this.head - Atomics.load(this.ctl, READER_TAIL + i)) | 0);
    return most;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    // Wake a writer waiting for space so it sees the failure.
    Atomics.add(this.ctl, PROGRESS, 1);
    Atomics.notify(this.ctl, PROGRESS);
  }

  protected async feed(chunk: Buffer): Promise<void> {
    const size = this.ring.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.failure) throw this.failure;
      const progress = Atomics.load(this.ctl, PROGRESS);
      const free = size - this.unreadBytes();
      if (free === 0) {
        const w = waitAsync(this.ctl, PROGRESS, progress);
        if (w.async) await w.value;
        continue;
      }
      const at = this.head & (size - 1);
      const n = Math.min(free, size - at, chunk.length - off);
      this.ring.set(chunk.subarray(off, off + n), at);
      off += n;
      this.head = (this.head + n) | 0;
      Atomics.store(this.ctl, HEAD, this.head);
      this.signal();
    }
  }

  private signal(): void {
    Atomics.add(this.ctl, SIGNAL, 1);
    Atomics.notify(this.ctl, SIGNAL);
  }

  async digests(): Promise<Digests> {
    if (this.failure) throw this.failure;
    Atomics.store(this.ctl, STATE, ENDED);
    this.signal();
    const [md5, sha512] = await Promise.all(this.results);
    for (const r of [md5!, sha512!]) {
      if (r.bytes !== this.bytes) throw new Error(`a hashing thread read ${r.bytes} of ${this.bytes} bytes`);
    }
    this.stopWorkers();
    return { md5: md5!.digest, sha512: sha512!.digest };
  }

  abort(): void {
    this.failure ??= new Error('aborted');
    Atomics.store(this.ctl, STATE, ABORTED);
    this.signal();
    this.stopWorkers();
  }

  private stopWorkers(): void {
    for (const w of this.workers) {
      w.removeAllListeners('exit');
      w.on('error', () => {}); // already reported, or nobody waits any more
      void w.terminate();
    }
  }
}

/** Below this many announced bytes the digests run inline: starting two threads costs more than hashing. */
export const PARALLEL_FROM_BYTES = 8 * 1024 * 1024;

/** The digest stream for an upload of `expectedBytes` (undefined: unknown, e.g. chunked). */
export function digestFor(
  limits: { maxBytes: number; tooLargeMessage?: string; expectedBytes?: number },
  options?: ParallelDigestOptions & { parallelFromBytes?: number },
): StreamDigest {
  const message = limits.tooLargeMessage ?? 'Image exceeds the storage quota.';
  const threshold = options?.parallelFromBytes ?? PARALLEL_FROM_BYTES;
  if (limits.expectedBytes !== undefined && limits.expectedBytes < threshold)
    return new InlineDigest(limits.maxBytes, message);
  return new ParallelDigest(limits.maxBytes, message, options);
}
