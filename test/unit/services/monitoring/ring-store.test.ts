// The ring store: one slot a minute for 24 h, overwritten in a ring, bounded by a cap, saved and read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingStore, SERIES_BYTES, SLOTS } from '../../../../src/services/monitoring/ring-store.js';
import { rates, totals } from '../../../../src/services/monitoring/collector.js';
import { timeWindow } from '../../../../src/services/monitoring/index.js';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

test('records one point a minute and answers a range with nulls where nothing was sampled', () => {
  const s = new RingStore();
  s.record('a', T0, { cpu_percent: 10 });
  s.record('a', T0 + 120_000, { cpu_percent: 30, net_rx_bytes_per_sec: null });
  const r = s.range('a', T0, T0 + 180_000, ['cpu_percent', 'net_rx_bytes_per_sec']);
  assert.deepEqual(
    r.cpu_percent?.map((p) => p[1]),
    [10, null, 30, null],
  );
  assert.equal(r.cpu_percent?.[0]?.[0], T0 / 1000);
  assert.deepEqual(
    r.net_rx_bytes_per_sec?.map((p) => p[1]),
    [null, null, null, null],
  );
  assert.deepEqual(
    s.range('unknown', T0, T0 + 60_000, ['cpu_percent']).cpu_percent?.map((p) => p[1]),
    [null, null],
  );
});

test('a slot 24 h later replaces the old minute: the store never grows with time', () => {
  const s = new RingStore();
  s.record('a', T0, { cpu_percent: 1 });
  s.record('a', T0 + SLOTS * 60_000, { cpu_percent: 2 });
  assert.deepEqual(
    s.range('a', T0, T0, ['cpu_percent']).cpu_percent?.map((p) => p[1]),
    [null],
  );
  assert.equal(s.bytes(), SERIES_BYTES);
});

test('the cap bounds the number of series; dropped series free their slot', () => {
  const s = new RingStore(2);
  for (const id of ['a', 'b', 'c']) s.record(id, T0, { cpu_percent: 1 });
  assert.deepEqual(s.ids(), ['a', 'b']);
  s.drop('a');
  s.record('c', T0, { cpu_percent: 1 });
  assert.deepEqual(s.ids(), ['b', 'c']);
});

test('saves to a 0600 file and reads it back; a damaged file is ignored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ring-test-'));
  try {
    const s = new RingStore();
    s.record('x', T0, { cpu_percent: 42.5, disk_read_bytes_per_sec: 1000 });
    const path = join(dir, 'sub', 'series.bin');
    await s.save(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const back = new RingStore();
    assert.equal(await back.open(path), true);
    assert.deepEqual(back.range('x', T0, T0, ['cpu_percent', 'disk_read_bytes_per_sec']), {
      cpu_percent: [[T0 / 1000, 42.5]],
      disk_read_bytes_per_sec: [[T0 / 1000, 1000]],
    });
    const damaged = new RingStore();
    assert.equal(damaged.load(Buffer.from('GRMS1\nxx')), false);
    assert.equal(damaged.ids().length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rates from two readings; a counter that went backwards gives no rate', () => {
  const base = {
    uptimeSec: 1,
    vcpuTimeNs: [],
    memoryMaxBytes: 0,
    memoryRssBytes: 5,
    memoryBalloonBytes: null,
  };
  const nic = (rx: number) => ({
    mac: 'm',
    portId: 'p',
    device: 't',
    rxBytes: rx,
    rxPackets: 0,
    rxDrops: 0,
    rxErrors: 0,
    txBytes: 0,
    txPackets: 0,
    txDrops: 0,
    txErrors: 0,
  });
  const a = totals({ ...base, at: 0, cpuTimeNs: 0, disks: [], nics: [nic(1000)] });
  const b = totals({ ...base, at: 2000, cpuTimeNs: 1e9, disks: [], nics: [nic(5000)] });
  const r = rates(a, b, 2, 5);
  assert.equal(r.cpu_percent, 25, 'one CPU-second in two seconds on two vCPUs');
  assert.equal(r.net_rx_bytes_per_sec, 2000);
  assert.equal(rates(b, a, 2, 5).net_rx_bytes_per_sec, undefined, 'older reading: no rates at all');
  const c = totals({ ...base, at: 4000, cpuTimeNs: 10, disks: [], nics: [nic(10)] });
  assert.equal(rates(b, c, 2, 5).cpu_percent, null, 'restart: no rate');
  assert.equal(rates(undefined, c, 2, 5).memory_rss_bytes, 5);
});

test('time windows: defaults, ISO or unix seconds, and the absurd ones refused', () => {
  const now = T0;
  assert.deepEqual(timeWindow({}, now), { startMs: now - 3600_000, endMs: now });
  assert.equal(timeWindow({ start: '2026-12-07T11:30:00Z' }, now).startMs, now - 1800_000);
  assert.equal(timeWindow({ end: String(now / 1000) }, now).endMs, now);
  assert.throws(() => timeWindow({ start: String(now / 1000), end: String(now / 1000 - 1) }, now), /before start/);
  assert.throws(() => timeWindow({ start: String(now / 1000 - 90_000) }, now), /24 hours/);
  assert.throws(() => timeWindow({ start: 'noon' }, now), /Invalid start/);
});
