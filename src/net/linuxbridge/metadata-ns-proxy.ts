// The metadata proxy inside a router (or DHCP) namespace, as Neutron's ns-metadata-proxy: it listens where guests'
// 169.254.169.254:80 is redirected, and passes each request to the host's metadata agent over a unix socket (which
// crosses namespaces), adding who asked: the source address and the router or network the namespace belongs to. The
// agent, not this process, turns that into an instance and signs it. Plain Node, no dependencies.
//
//   node metadata-ns-proxy.js --listen PORT [--host ADDR] --socket PATH (--router-id ID | --network-id ID)
import { createServer, request } from 'node:http';
import { pathToFileURL } from 'node:url';

const MAX_BODY = 64 * 1024;

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Starts the proxy; resolves once it listens. */
export function startNsProxy(o: {
  port: number;
  host?: string;
  socket: string;
  routerId?: string;
  networkId?: string;
}): Promise<() => void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {
        // What the guest sent about itself is dropped: only our own view of the connection goes on.
        'x-forwarded-for': String(req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        'content-length': String(body.length),
      };
      if (o.routerId) headers['x-gureum-router-id'] = o.routerId;
      if (o.networkId) headers['x-gureum-network-id'] = o.networkId;
      if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
      const up = request(
        { socketPath: o.socket, path: req.url ?? '/', method: req.method ?? 'GET', headers, timeout: 15_000 },
        (r) => {
          res.writeHead(r.statusCode ?? 502, {
            'content-type': String(r.headers['content-type'] ?? 'text/plain; charset=UTF-8'),
          });
          r.pipe(res);
        },
      );
      up.on('timeout', () => up.destroy(new Error('timeout')));
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('Bad Gateway\n');
      });
      up.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve(() => server.close()));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const socket = arg(argv, '--socket');
  const port = Number(arg(argv, '--listen'));
  const routerId = arg(argv, '--router-id');
  const networkId = arg(argv, '--network-id');
  const host = arg(argv, '--host');
  if (!socket || !port || (!routerId && !networkId)) {
    process.stderr.write('usage: metadata-ns-proxy --listen PORT --socket PATH (--router-id ID | --network-id ID)\n');
    process.exit(2);
  }
  startNsProxy({
    port,
    socket,
    ...(host ? { host } : {}),
    ...(routerId ? { routerId } : {}),
    ...(networkId ? { networkId } : {}),
  }).catch((e: Error) => {
    process.stderr.write(`metadata-ns-proxy: ${e.message}\n`);
    process.exit(1);
  });
}
