// Streaming image upload and download over HTTP for benchmarks (no buffering of the whole image on either side).
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const MiB = 1024 * 1024;

/**
 * PUTs `total` bytes (a 1 MiB random block repeated) with back-pressure and a Content-Length; resolves with the status.
 */
export function uploadStream(baseUrl: string, path: string, token: string, total: number): Promise<number> {
  const block = randomBytes(MiB);
  const u = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': String(total) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(MiB, total - sent);
        sent += n;
        if (!req.write(n === MiB ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GETs a body and counts its bytes. */
export function downloadStream(baseUrl: string, path: string, token: string): Promise<number> {
  const u = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname: u.hostname, port: u.port, path: u.pathname, headers: { 'x-auth-token': token } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

/** Samples `measure()` every 20 ms until stopped; resolves with the highest value seen. */
export function sampleMax(measure: () => number): { stop(): number } {
  let peak = measure();
  const timer = setInterval(() => {
    peak = Math.max(peak, measure());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, measure());
    },
  };
}
