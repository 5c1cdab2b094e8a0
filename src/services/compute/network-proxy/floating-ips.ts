// Nova's os-floating-ips proxy (and the floating IP server actions) over the network service: Nova's shapes,
// pool names and status codes, with Neutron doing the work.
import { badRequest, conflict, forbidden, isCloudError, notFound } from '../../../errors.js';
import type { AuthContext } from '../../auth-context.js';
import { isAdmin } from '../../auth-context.js';
import type { NetworkService } from '../../network/index.js';
import { SYSTEM_CONTEXT } from '../../network/index.js';
import { UUID_RE } from '../common.js';
import { translate } from './errors.js';

/** A floating IP as Nova's os-floating-ips shows it. */
export interface NovaFloatingIp {
  id: string;
  ip: string;
  pool: string;
  fixed_ip: string | null;
  instance_id: string | null;
}

/** os-floating-ips, os-floating-ip-pools, addFloatingIp and removeFloatingIp. */
export class FloatingIpProxy {
  constructor(private readonly net: NetworkService) {}

  private async fipViews(
    rows: {
      id: string;
      floating_ip_address: string;
      floating_network_id: string;
      fixed_ip_address: string | null;
      port_id: string | null;
    }[],
  ): Promise<NovaFloatingIp[]> {
    const out: NovaFloatingIp[] = [];
    for (const f of rows) {
      const net = await this.net.networks.find(f.floating_network_id);
      const port = f.port_id ? await this.net.ports.find(f.port_id) : undefined;
      out.push({
        id: f.id,
        ip: f.floating_ip_address,
        pool: net?.name || f.floating_network_id,
        fixed_ip: f.fixed_ip_address,
        instance_id: port?.device_id ? port.device_id : null,
      });
    }
    return out;
  }

  async listFloatingIps(a: AuthContext): Promise<NovaFloatingIp[]> {
    const rows = await this.net.floatingIps.list(a);
    return this.fipViews(isAdmin(a) ? rows.filter((f) => f.project_id === a.projectId) : rows);
  }

  async getFloatingIp(a: AuthContext, id: string): Promise<NovaFloatingIp> {
    const notThere = () => notFound(`Floating IP not found for ID ${id}`, { code: 'FloatingIpNotFound' });
    if (!UUID_RE.test(id)) throw notThere();
    const f = await this.net.floatingIps.get(a, id).catch(() => {
      throw notThere();
    });
    return (await this.fipViews([f]))[0]!;
  }

  /** The external networks, as Nova's floating IP pools. */
  async pools(): Promise<string[]> {
    return (await this.net.networks.list(SYSTEM_CONTEXT)).filter((n) => n.router_external).map((n) => n.name || n.id);
  }

  /** Allocates from `pool` (an external network's name or id; the default external network when null). */
  async allocateFloatingIp(a: AuthContext, pool: string | null): Promise<NovaFloatingIp> {
    const externals = (await this.net.networks.list(SYSTEM_CONTEXT)).filter((n) => n.router_external);
    let net =
      pool === null
        ? (externals.find((n) => n.is_default) ??
          (externals.length === 1 ? externals[0] : externals.find((n) => n.name === 'public')))
        : (externals.find((n) => n.id === pool) ??
          (externals.filter((n) => n.name === pool).length === 1 ? externals.find((n) => n.name === pool) : undefined));
    if (pool !== null && !net && externals.filter((n) => n.name === pool).length > 1)
      throw conflict(`Multiple floating IP pools matches found for name '${pool}'`, { code: 'NoUniqueMatch' });
    if (!net) throw notFound('Floating IP pool not found.', { code: 'FloatingIpPoolNotFound' });
    net = net!;
    let f;
    try {
      f = await this.net.floatingIps.create(a, { floating_network_id: net.id });
    } catch (e) {
      if (isCloudError(e) && (e.code === 'OverQuota' || e.kind === 'OverQuota' || /quota/i.test(e.message)))
        throw forbidden('Maximum number of floating IPs exceeded', { code: 'FloatingIpLimitExceeded' });
      if (isCloudError(e) && (e.code === 'IpAddressGenerationFailure' || /No more IP|exhausted/i.test(e.message)))
        throw notFound(`No more floating IPs in pool ${pool ?? net.name}.`, { code: 'NoMoreFloatingIps' });
      return translate(e, { 400: 'BadRequest', 404: 'NotFound', 409: 'BadRequest' });
    }
    await this.net.publish('floatingip', 'created', f.id);
    return (await this.fipViews([f]))[0]!;
  }

  async deleteFloatingIp(a: AuthContext, id: string): Promise<void> {
    await this.getFloatingIp(a, id);
    const last = await this.net.render('floatingip', id);
    await this.net.floatingIps.delete(a, id);
    await this.net.publish('floatingip', 'deleted', id, last);
  }

  private async fipByAddress(a: AuthContext, address: string) {
    const f = (await this.net.floatingIps.list(a)).find((x) => x.floating_ip_address === address);
    if (!f) throw notFound('floating IP not found', { code: 'FloatingIpNotFoundForAddress' });
    return f;
  }

  /** addFloatingIp: to the instance's port holding `fixedAddress` (else its first IPv4 address). */
  async associate(a: AuthContext, instanceId: string, address: string, fixedAddress: string | null): Promise<void> {
    const ports = await this.net.serverPorts(instanceId);
    if (ports.length === 0) throw badRequest('Instance network is not ready yet');
    const fixed = ports.flatMap((p) =>
      ((p.fixed_ips as { ip_address: string }[] | undefined) ?? []).map((i) => ({
        port: String(p.id),
        ip: i.ip_address,
      })),
    );
    if (fixed.length === 0) throw badRequest('No fixed IPs associated to instance');
    let chosen = fixed.find((x) => x.ip === fixedAddress);
    if (fixedAddress !== null && !chosen) throw badRequest('Specified fixed address not assigned to instance');
    if (!chosen) chosen = fixed.find((x) => !x.ip.includes(':'));
    if (!chosen)
      throw badRequest(
        `Unable to associate floating IP ${address} to any fixed IPs for instance ${instanceId}. Instance has no ` +
          `fixed IPv4 addresses to associate.`,
      );
    const f = await this.fipByAddress(a, address);
    try {
      await this.net.floatingIps.update(a, f.id, { port_id: chosen.port, fixed_ip_address: chosen.ip });
    } catch (e) {
      if (isCloudError(e) && e.status === 403) throw e;
      throw badRequest(
        `Unable to associate floating IP ${address} to fixed IP ${chosen.ip} for instance ${instanceId}. Error: ` +
          `${isCloudError(e) ? e.message : 'unexpected error'}`,
      );
    }
    await this.net.publish('floatingip', 'updated', f.id);
  }

  /** removeFloatingIp: 409 unless the address is associated with this instance. */
  async disassociate(a: AuthContext, instanceId: string, address: string): Promise<void> {
    const f = await this.fipByAddress(a, address);
    const port = f.port_id ? await this.net.ports.find(f.port_id) : undefined;
    if (!port || port.device_id !== instanceId)
      throw conflict(`Floating IP ${address} is not associated with instance ${instanceId}.`);
    await this.net.floatingIps.update(a, f.id, { port_id: null });
    await this.net.publish('floatingip', 'updated', f.id);
  }
}
