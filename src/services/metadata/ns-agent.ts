// The host side of metadata on tenant networks (Neutron's metadata agent): the proxies inside router and DHCP
// namespaces reach it over a unix socket (mode 0600, root only) with the asking guest's source address and their
// router or network. It finds the instance whose port holds that address on one of those networks, then forwards the
// request to the metadata API signed for that instance. Anti-spoofing on the bridges (security groups) is what makes
// a source address trustworthy; without a match the guest gets 404 and nothing else.
import { createServer, type Server } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import { forward, formatResponse, BadGuestRequest, type GuestRequest } from './guest-proxy.js';

const MAX_BODY = 64 * 1024;

export class MetadataNsAgent {
  private server: Server | null = null;

  constructor(private readonly deps: { db: Kysely<Database>; target: () => { url: string; secret: string } }) {}

  /** The instance whose port holds `ip` on the network, or on one of the networks the router is attached to. */
  async instanceFor(scope: { routerId?: string; networkId?: string }, ip: string): Promise<string | null> {
    let networks: string[] = [];
    if (scope.networkId) networks = [scope.networkId];
    else if (scope.routerId) {
      networks = (
        await this.deps.db
          .selectFrom('net_ports')
          .select('network_id')
          .where('device_id', '=', scope.routerId)
          .where('device_owner', 'like', 'network:router_interface%')
          .execute()
      ).map((r) => r.network_id);
    }
    if (!networks.length || !ip) return null;
    const hit = await this.deps.db
      .selectFrom('net_ip_allocations')
      .innerJoin('net_ports', 'net_ports.id', 'net_ip_allocations.port_id')
      .select(['net_ports.device_id'])
      .where('net_ip_allocations.ip_address', '=', ip)
      .where('net_ports.network_id', 'in', networks)
      .where('net_ports.device_owner', 'like', 'compute:%')
      .executeTakeFirst();
    return hit?.device_id || null;
  }

  /** Serves the namespace proxies on a unix socket. */
  async listen(socketPath: string): Promise<void> {
    await rm(socketPath, { force: true });
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => {
        const reply = (status: number, type: string, body: Buffer) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        };
        const ip = String(req.headers['x-forwarded-for'] ?? '');
        const scope = {
          routerId: header(req.headers['x-gureum-router-id']),
          networkId: header(req.headers['x-gureum-network-id']),
        };
        if (size > MAX_BODY) return reply(413, 'text/plain', Buffer.from('Request Entity Too Large\n'));
        this.instanceFor(scope, ip)
          .then(async (instanceId) => {
            if (!instanceId) return reply(404, 'text/plain; charset=UTF-8', Buffer.from('Not Found\n'));
            const greq: GuestRequest = {
              method: req.method ?? 'GET',
              path: req.url ?? '/',
              contentType: header(req.headers['content-type']),
              body: Buffer.concat(chunks),
            };
            const t = this.deps.target();
            const r = await forward(t.url, instanceId, t.secret, greq);
            reply(r.status, r.contentType, r.body);
          })
          .catch((e: unknown) => {
            const status = e instanceof BadGuestRequest ? 400 : 502;
            const raw = formatResponse(status, 'text/plain', Buffer.alloc(0));
            reply(
              status,
              'text/plain; charset=UTF-8',
              Buffer.from(`${raw.toString('latin1').split('\r\n')[0]!.slice(9)}\n`),
            );
          });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
