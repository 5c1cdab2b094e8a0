// A hashing thread: reads the shared ring (digest-ring.ts) behind the writer and feeds one hash. It blocks on the
// ring's SIGNAL slot when there is nothing to read, which is allowed in a worker (never on the main thread).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import {
  ENDED,
  HEAD,
  PROGRESS,
  READER_TAIL,
  SIGNAL,
  STATE,
  type DigestWorkerData,
  type DigestWorkerResult,
} from './digest-ring.js';

/** The most bytes handed to one hash.update: frees ring space in steps instead of all at once. */
const STEP = 256 * 1024;

const { ring, control, algorithm, reader } = workerData as DigestWorkerData;
const data = new Uint8Array(ring);
const ctl = new Int32Array(control);
const mask = data.length - 1;
const tailSlot = READER_TAIL + reader;
const hash = createHash(algorithm);
let tail = Atomics.load(ctl, tailSlot);
let bytes = 0;

for (;;) {
  // Order matters: the signal first (so a change after it wakes us), the state before the head (so when the
  // state says ENDED, the head read after it is the final one).
  const signal = Atomics.load(ctl, SIGNAL);
  const state = Atomics.load(ctl, STATE);
  const head = Atomics.load(ctl, HEAD);
  const unread = (head - tail) | 0;
  if (unread > 0) {
    const at = tail & mask;
    const n = Math.min(unread, data.length - at, STEP);
    hash.update(data.subarray(at, at + n));
    bytes += n;
    tail = (tail + n) | 0;
    Atomics.store(ctl, tailSlot, tail);
    Atomics.add(ctl, PROGRESS, 1);
    Atomics.notify(ctl, PROGRESS);
    continue;
  }
  if (state === ENDED) {
    const result: DigestWorkerResult = { digest: hash.digest('hex'), bytes };
    parentPort!.postMessage(result);
    break;
  }
  if (state !== 0) break; // ABORTED: nobody wants the digest
  Atomics.wait(ctl, SIGNAL, signal);
}
