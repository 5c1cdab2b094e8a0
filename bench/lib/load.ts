// A closed-loop HTTP load runner for loopback benchmarks: N workers, each sending the next request when the last
// answered.
import * as fs from 'node:fs';
import http from 'node:http';

export interface LoadResult {
  name: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  reqPerSec: number;
  p50ms: number;
  /** NaN when there were fewer than MIN_SAMPLES_FOR_P99 samples: report the max instead. */
  p99ms: number;
  maxms: number;
  /** What the first failed request got (status and body start, or the socket error), when any failed. */
  firstError?: string;
}

/**
 * Fewest samples a p99 is reported from: with 1,000 there are 10 above it, so it is not just the slowest one or two.
 * Below this the benchmarks report the maximum instead.
 */
export const MIN_SAMPLES_FOR_P99 = 1000;

/** p50, p99 (NaN with too few samples) and max of latency samples in ms. */
export function latencySummary(samples: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: sorted.length >= MIN_SAMPLES_FOR_P99 ? percentile(sorted, 99) : NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** "p50 X ms, p99 Y ms, max Z ms (n samples)", leaving p99 out when the samples are too few to mean it. */
export function describeLatency(samples: readonly number[], digits = 1): string {
  const s = latencySummary(samples);
  const f = (x: number) => x.toFixed(digits);
  return `p50 ${f(s.p50)} ms, ${Number.isNaN(s.p99) ? '' : `p99 ${f(s.p99)} ms, `}max ${f(s.max)} ms (${s.n} samples)`;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Status that counts as success. */
  expect: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request; resolves with status, headers and body. */
export function send(
  baseUrl: string,
  spec: Omit<RequestSpec, 'expect'>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(spec.path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: spec.method,
        headers: {
          ...(spec.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) } : {}),
          ...spec.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    if (spec.body) req.write(spec.body);
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Runs `total` requests from `concurrency` workers (bounded in count, loopback only).
 * `make(i)` builds the i-th request, so each may differ.
 */
export async function runLoad(
  name: string,
  baseUrl: string,
  concurrency: number,
  total: number,
  make: (i: number) => RequestSpec,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const spec = make(i);
      const t0 = process.hrtime.bigint();
      try {
        const res = await send(baseUrl, spec);
        if (res.status !== spec.expect) {
          errors++;
          firstError ??= `${spec.method} ${spec.path}: ${res.status} ${res.body.slice(0, 200)}`;
        }
      } catch (e) {
        errors++;
        firstError ??= `${spec.method} ${spec.path}: ${(e as Error).message}`;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const l = latencySummary(latencies);
  return {
    name,
    concurrency,
    requests: total,
    errors,
    seconds,
    reqPerSec: total / seconds,
    p50ms: l.p50,
    p99ms: l.p99,
    maxms: l.max,
    ...(firstError ? { firstError } : {}),
  };
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const { readFileSync } = fs;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Peak resident set size (VmHWM) of a process in MB. */
export function peakRssMb(pid: number): number {
  const { readFileSync } = fs;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Prints results as a Markdown table. */
export function table(rows: LoadResult[]): string {
  const head =
    '| operation | conc. | requests | req/s | p50 ms | p99 ms | max ms | errors ' +
    '|\n|---|---:|---:|---:|---:|---:|---:|---:|';
  const p99 = (r: LoadResult) => (Number.isNaN(r.p99ms) ? `– (n<${MIN_SAMPLES_FOR_P99})` : r.p99ms.toFixed(2));
  const body = rows.map(
    (r) =>
      `| ${r.name} | ${r.concurrency} | ${r.requests} | ${r.reqPerSec.toFixed(0)} | ${r.p50ms.toFixed(2)} | ` +
      `${p99(r)} | ${r.maxms.toFixed(1)} | ${r.errors} |`,
  );
  return [head, ...body].join('\n');
}
