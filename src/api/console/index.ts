// The remote console on the main port, below /console (not in the service catalog), as Nova's noVNC proxy:
//   GET /console/websockify?token=T   websocket (binary frames) bridged to the guest's VNC unix socket; on a bad
//                                     or expired token the connection is closed without a byte (as Nova's proxy)
//   GET /console/<file>               noVNC's own files, read from Debian's `novnc` package (/usr/share/novnc)
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { extname, join, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FastifyReply } from 'fastify';
import type { ServiceApi } from '../http/service-api.js';
import type { AppDeps } from '../../app-deps.js';
import type { ConsoleService } from '../../services/console/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.ogg': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** Bytes buffered towards one side before the other side is paused. */
const HIGH_WATER = 1024 * 1024;

function text(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(body);
}

/** The token of a /console/websockify URL. */
function tokenOf(url: string): string {
  return new URL(url, 'http://x').searchParams.get('token') ?? '';
}

/** A file below noVNC's folder for a request path, or null (traversal, hidden files, not a file). */
async function staticFile(root: string, rel: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.' || p.startsWith('.'))) return null;
  try {
    const realRoot = await realpath(root);
    // Debian links some files (vnc_auto.html -> vnc.html): whatever a link says, the file must stay under the root.
    const real = await realpath(join(realRoot, ...parts));
    if (!real.startsWith(realRoot + sep)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Pipes websocket binary frames to the VNC socket and back, with back-pressure both ways. */
function bridge(ws: WebSocket, vnc: Socket): void {
  let pending = 0;
  vnc.on('data', (chunk: Buffer) => {
    pending += chunk.length;
    if (pending > HIGH_WATER) vnc.pause();
    ws.send(chunk, { binary: true }, () => {
      pending -= chunk.length;
      if (pending <= HIGH_WATER && vnc.isPaused()) vnc.resume();
    });
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!vnc.write(buf)) {
      ws.pause();
      vnc.once('drain', () => ws.resume());
    }
  });
  const end = (): void => {
    vnc.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
  };
  vnc.on('close', end);
  vnc.on('error', end);
  ws.on('close', end);
  ws.on('error', end);
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
function refuse(socket: Duplex, status: number, message: string): void {
  const reason =
    status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : 'Bad Request';
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ` +
      `${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Handles `upgrade` events of the HTTP server for /console/websockify. */
function upgradeHandler(
  consoles: ConsoleService,
  wss: WebSocketServer,
  prefix: string,
  log: { warn(o: object, m: string): void },
) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (path !== `${prefix}/websockify`) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    consoles
      .connect(tokenOf(req.url ?? ''))
      .then(async (r) => {
        // Nova's proxy answers a bad token by closing the connection, sending nothing a client could take for
        // console data (Tempest's test_novnc_bad_token checks exactly that); a plain GET still gets the 401 below.
        if ('status' in r && r.status === 401) return void socket.destroy();
        if ('status' in r) return refuse(socket, r.status, r.message);
        const vnc = connect(r.socket);
        try {
          await once(vnc, 'connect');
        } catch {
          return refuse(socket, 409, `Instance ${r.target.instanceId} has no console right now.`);
        }
        if (socket.destroyed) return void vnc.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, vnc));
      })
      .catch((err: unknown) => {
        log.warn({ err }, 'console upgrade failed');
        refuse(socket, 400, 'Bad Request');
      });
  };
}

/** noVNC's pages and the websocket bridge to guests' VNC servers. */
export const consoleApi: ServiceApi = {
  type: 'console',
  name: 'console',
  prefix: '/console',
  endpointPath: '/console',
  errorFormat: 'nova',
  catalog: false,
  routes(app, deps: AppDeps) {
    const consoles = deps.console;
    const novncDir = deps.config.console.novncDir;
    // noVNC offers "binary" (older clients also "base64", which we do not speak): take binary when offered.
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: 16 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
    });
    const onUpgrade = upgradeHandler(consoles, wss, '/console', app.log);
    app.server.on('upgrade', onUpgrade);
    app.addHook('onClose', async () => {
      app.server.off('upgrade', onUpgrade);
      for (const c of wss.clients) c.terminate();
      wss.close();
    });
    const opts = { config: { public: true } };
    // Without an upgrade: the token is checked the same way, then 426 (a browser must open it as a websocket).
    app.get('/websockify', opts, async (req, reply) => {
      const r = await consoles.connect(tokenOf(req.url));
      if ('status' in r) return text(reply, r.status, `${r.message}\n`);
      return text(reply.header('upgrade', 'websocket'), 426, 'Upgrade Required: open this URL as a websocket.\n');
    });
    const serve = async (rel: string, reply: FastifyReply): Promise<FastifyReply> => {
      const file = await staticFile(novncDir, rel);
      if (!file) {
        const installed = await stat(novncDir).then(
          () => true,
          () => false,
        );
        return text(
          reply,
          404,
          installed ? 'Not Found\n' : 'noVNC is not installed on this host (Debian package novnc).\n',
        );
      }
      const size = (await stat(file)).size;
      return reply
        .code(200)
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .header('content-length', size)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'public, max-age=3600')
        .send(createReadStream(file));
    };
    app.get('/', opts, async (_req, reply) => reply.redirect('/console/vnc_lite.html'));
    // The raw path (not Fastify's decoded parameter), decoded exactly once by staticFile.
    app.get('/*', opts, async (req, reply) => serve(req.url.split('?')[0]!.slice('/console/'.length), reply));
  },
};
