import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InlineDigest, ParallelDigest, type StreamDigest } from '../../../src/services/image/digests.js';
import { LocalStore } from '../../../src/services/image/store.js';
import { CloudError } from '../../../src/errors.js';

const failingWorker = new URL('data:text/javascript,throw new Error("hashing thread broke")');
// Never reads the ring; stays alive until terminated.
const stalledWorker = new URL('data:text/javascript,setInterval(() => {}, 1000)');

function chunksOf(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - off);
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

const drain = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function digestOf(d: StreamDigest, chunks: Buffer[]) {
  await pipeline(Readable.from(chunks), d, drain());
  return d.digests();
}

test('parallel digests equal node:crypto for odd chunk sizes, across many ring wrap-arounds', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const want = {
    md5: createHash('md5').update(data).digest('hex'),
    sha512: createHash('sha512').update(data).digest('hex'),
  };
  for (const sizes of [[1, 7, 4093], [65537], [1024 * 1024 + 3, 5], [4096]]) {
    const d = new ParallelDigest(Number.MAX_SAFE_INTEGER, 'too large', { ringBytes: 4096 });
    assert.deepEqual(await digestOf(d, chunksOf(data, sizes)), want, `chunk sizes ${sizes.join(',')}`);
    assert.equal(d.bytes, data.length);
  }
  assert.deepEqual(await digestOf(new InlineDigest(Number.MAX_SAFE_INTEGER, 'too large'), chunksOf(data, [999])), want);
});

test('an empty stream has the empty digests', async () => {
  const d = new ParallelDigest(10, 'too large');
  assert.deepEqual(await digestOf(d, []), {
    md5: createHash('md5').digest('hex'),
    sha512: createHash('sha512').digest('hex'),
  });
});

test('back-pressure: the writer never gets more than the ring ahead of the slowest hashing thread', async () => {
  const ringBytes = 64 * 1024;
  const d = new ParallelDigest(Number.MAX_SAFE_INTEGER, 'too large', { ringBytes, workerUrl: stalledWorker });
  let passed = 0;
  d.on('data', (c: Buffer) => {
    passed += c.length;
  });
  try {
    const chunk = Buffer.alloc(1000, 1);
    for (let i = 0; i < 1000; i++) d.write(chunk);
    // Poll until the ring is full (however loaded the machine), checking the bound all along, then a while longer.
    let fullFor = 0;
    for (let i = 0; i < 4000 && fullFor < 10; i++) {
      await sleep(5);
      assert.ok(d.unreadBytes() <= ringBytes, `unread ${d.unreadBytes()} exceeds the ring`);
      if (d.unreadBytes() === ringBytes) fullFor++;
    }
    assert.equal(d.unreadBytes(), ringBytes, 'the ring fills up and then the writer waits');
    // Nothing passes downstream beyond what went into the ring (plus the chunk being placed).
    assert.ok(passed <= ringBytes, `${passed} bytes passed a ring of ${ringBytes}`);
  } finally {
    d.abort();
    d.destroy();
  }
});

test('a hashing thread that fails fails the stream', async () => {
  const d = new ParallelDigest(Number.MAX_SAFE_INTEGER, 'too large', { ringBytes: 4096, workerUrl: failingWorker });
  await assert.rejects(async () => {
    await pipeline(Readable.from(chunksOf(randomBytes(256 * 1024), [1000])), d, drain());
    await d.digests();
  }, /hashing thread broke/);
  d.abort();
});

test('past the byte cap the stream fails with 413 and the threads stop', async () => {
  const d = new ParallelDigest(5000, 'over quota');
  await assert.rejects(
    pipeline(Readable.from(chunksOf(randomBytes(10000), [1000])), d, drain()),
    (e: unknown) => e instanceof CloudError && /over quota/.test(e.message),
  );
  d.abort();
});

test('LocalStore.receive hashes on threads and stores the bytes; a thread failure leaves nothing behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-digest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = randomBytes(300 * 1024 + 1);
  const store = new LocalStore(dir, { parallelFromBytes: 0, ringBytes: 8192 });
  const rec = await store.receive('img', Readable.from(chunksOf(data, [7777])), {
    maxBytes: 1e9,
    expectedBytes: data.length,
  });
  assert.equal(rec.md5, createHash('md5').update(data).digest('hex'));
  assert.equal(rec.sha512, createHash('sha512').update(data).digest('hex'));
  assert.equal(rec.size, data.length);
  assert.deepEqual(readFileSync(rec.tmpPath), data);
  assert.deepEqual(await store.hashFile(rec.tmpPath), { size: data.length, md5: rec.md5, sha512: rec.sha512 });
  await store.remove(rec.tmpPath);

  const broken = new LocalStore(dir, { parallelFromBytes: 0, ringBytes: 8192, workerUrl: failingWorker });
  await assert.rejects(
    broken.receive('img', Readable.from(chunksOf(data, [7777])), { maxBytes: 1e9 }),
    /hashing thread broke/,
  );
  assert.deepEqual(readdirSync(store.tmpDir), [], 'no temp file is left');
});
