// The layout of the shared ring an upload's bytes pass through on their way to the hashing workers, shared by the
// writer (parallel-digest.ts, on the main thread) and the readers (digest-worker.ts, one thread per algorithm).
//
// One writer, N readers. Counters are byte positions modulo 2^32 kept in an Int32Array; the ring's size is a power
// of two well under 2^31, so `(head - tail) | 0` is always the number of unread bytes even after the counters wrap.

/** Int32 slots of the control array. Reader i keeps its own tail at READER_TAIL + i. */
export const HEAD = 0; // bytes written so far (mod 2^32)
export const STATE = 1; // RUNNING, ENDED (no more bytes will come) or ABORTED (stop, no digest wanted)
export const SIGNAL = 2; // bumped by the writer after every change readers must see; readers sleep on it
export const PROGRESS = 3; // bumped by a reader after it frees space; the writer sleeps on it
export const READER_TAIL = 4;

export const RUNNING = 0;
export const ENDED = 1;
export const ABORTED = 2;

/** What a hashing worker is started with. */
export interface DigestWorkerData {
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  algorithm: string;
  reader: number;
}

/** What a hashing worker posts back once the writer has ended and it has read every byte. */
export interface DigestWorkerResult {
  digest: string;
  bytes: number;
}
