// The per-connection metadata proxy QEMU runs for a guest (guestfwd=tcp:169.254.169.254:80-cmd:...):
// reads one HTTP request from the guest on stdin, forwards it to the controller with the instance id this
// process was started for and its HMAC signature, writes the answer to stdout and exits.
// Plain Node, no dependencies beyond the signing helper: it starts once per guest connection.
//
//   node guest-proxy.js --instance-id ID --url http://127.0.0.1:PORT/metadata-internal --key-file FILE
import { request as httpRequest } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { readSecret, signInstanceId } from './signing.js';

const MAX_HEAD = 16 * 1024;
const MAX_BODY = 64 * 1024;
const TIMEOUT_MS = 15_000;

/** A request as read from the guest. */
export interface GuestRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/** Why a request cannot be served (becomes a 400 to the guest). */
export class BadGuestRequest extends Error {}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** Reads one request (head and Content-Length body) from a stream. */
export function readGuestRequest(input: Readable): Promise<GuestRequest> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let head: {
      method: string;
      path: string;
      contentType: string | undefined;
      length: number;
      bodyStart: number;
    } | null = null;
    const fail = (e: Error) => {
      cleanup();
      reject(e);
    };
    const tryParse = () => {
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > MAX_HEAD) fail(new BadGuestRequest('request head too large'));
          return;
        }
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
        if (!m) return fail(new BadGuestRequest('malformed request line'));
        let length = 0;
        let contentType: string | undefined;
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const name = line.slice(0, i).trim().toLowerCase();
          const value = line.slice(i + 1).trim();
          if (name === 'content-length') {
            if (!/^\d{1,9}$/.test(value)) return fail(new BadGuestRequest('bad Content-Length'));
            length = Number(value);
          } else if (name === 'content-type') contentType = value;
          else if (name === 'transfer-encoding') return fail(new BadGuestRequest('chunked requests are not supported'));
        }
        if (length > MAX_BODY) return fail(new BadGuestRequest('request body too large'));
        head = { method: m[1]!, path: m[2]!, contentType, length, bodyStart: end + 4 };
      }
      if (buf.length - head.bodyStart >= head.length) {
        cleanup();
        resolve({
          method: head.method,
          path: head.path,
          contentType: head.contentType,
          body: buf.subarray(head.bodyStart, head.bodyStart + head.length),
        });
      }
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      tryParse();
    };
    const onEnd = () => {
      if (!head || buf.length - head.bodyStart < head.length)
        fail(new BadGuestRequest('connection closed mid-request'));
    };
    const onError = (e: Error) => fail(e);
    const cleanup = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}

/** The path to forward: origin form only, no "..", no fragments; absolute-form URLs are reduced to their path. */
export function safePath(raw: string): string {
  let p = raw;
  if (/^https?:\/\//i.test(p)) p = new URL(p).pathname + new URL(p).search;
  if (!p.startsWith('/') || p.includes('#') || p.includes('\\')) throw new BadGuestRequest('bad request path');
  const pathOnly = p.split('?')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathOnly);
  } catch {
    throw new BadGuestRequest('bad request path');
  }
  if (decoded.split('/').some((s) => s === '..' || s === '.')) throw new BadGuestRequest('bad request path');
  return p;
}

/** A complete HTTP/1.1 response with Connection: close. */
export function formatResponse(status: number, contentType: string, body: Buffer, headOnly = false): Buffer {
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\nContent-Type: ` +
    `${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return headOnly ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Forwards one request to the controller, signed for `instanceId`. */
export function forward(
  baseUrl: string,
  instanceId: string,
  secret: string,
  req: GuestRequest,
): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl.replace(/\/+$/, '') + safePath(req.path));
    const headers: Record<string, string> = {
      'X-Instance-ID': instanceId,
      'X-Instance-ID-Signature': signInstanceId(secret, instanceId),
      'Content-Length': String(req.body.length),
    };
    if (req.contentType && req.body.length) headers['Content-Type'] = req.contentType;
    const r = httpRequest(url, { method: req.method, headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 502,
          contentType: String(res.headers['content-type'] ?? 'text/plain; charset=UTF-8'),
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('controller timed out')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Serves one guest connection on input/output; resolves when the answer is written. */
export async function serveConnection(
  input: Readable,
  output: Writable,
  o: { instanceId: string; url: string; secret: string },
): Promise<number> {
  let status: number;
  let answer: Buffer;
  let head = false;
  try {
    const req = await readGuestRequest(input);
    head = req.method === 'HEAD';
    const res = await forward(o.url, o.instanceId, o.secret, req);
    status = res.status;
    answer = formatResponse(res.status, res.contentType, res.body, head);
  } catch (e) {
    status = e instanceof BadGuestRequest ? 400 : 502;
    answer = formatResponse(status, 'text/plain; charset=UTF-8', Buffer.from(`${REASONS[status]}\n`), head);
  }
  await new Promise<void>((resolve) => output.write(answer, () => resolve()));
  return status;
}

function argValue(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (!v) throw new Error(`missing ${name}`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  let opts: { instanceId: string; url: string; secret: string };
  try {
    opts = {
      instanceId: argValue(argv, '--instance-id'),
      url: argValue(argv, '--url'),
      secret: readSecret(argValue(argv, '--key-file')),
    };
  } catch (e) {
    process.stderr.write(`gureum metadata proxy: ${(e as Error).message}\n`);
    process.stdout.write(formatResponse(500, 'text/plain; charset=UTF-8', Buffer.from('Internal Server Error\n')));
    process.exitCode = 2;
    return;
  }
  await serveConnection(process.stdin, process.stdout, opts);
  process.stdin.destroy();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(),
    () => process.exit(1),
  );
}
