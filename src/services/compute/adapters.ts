import type { Readable } from 'node:stream';
import { badRequest, conflict, forbidden, isCloudError } from '../../errors.js';
import { type AuthContext, isAdmin, projectMemberContext, serviceContext } from '../auth-context.js';
import type { ImageService } from '../image/index.js';
import type { NetworkService } from '../network/index.js';
import type { ComputeImage, ComputeImagePort, ComputeNetworkPort, ComputePort, NicRequest } from './peer-services.js';

/** Compute acting on its own behalf (uploading snapshot data, cleaning up), as Nova uses its service user. */
export const COMPUTE_SERVICE: AuthContext = serviceContext('gureum-compute');

/** Compute's view of Glance, over the in-process ImageService. */
export class ImageServiceAdapter implements ComputeImagePort {
  constructor(private readonly image: ImageService) {}

  async getImage(ctx: AuthContext, id: string): Promise<ComputeImage> {
    const i = await this.image.getImage(ctx, id);
    return {
      id: i.id,
      name: i.name ?? '',
      status: i.status,
      minDisk: i.min_disk,
      minRam: i.min_ram,
      size: i.size,
      diskFormat: i.disk_format,
      containerFormat: i.container_format,
      properties: i.properties,
    };
  }

  async createSnapshot(
    ctx: AuthContext,
    spec: { name: string; minDisk: number; minRam: number; properties: Record<string, string> },
  ): Promise<ComputeImage> {
    const body: Record<string, unknown> = {
      ...spec.properties,
      name: spec.name,
      min_disk: spec.minDisk,
      min_ram: spec.minRam,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'private',
    };
    const i = await this.image.createImage(ctx, body);
    return {
      id: i.id,
      name: i.name ?? '',
      status: i.status,
      minDisk: i.min_disk,
      minRam: i.min_ram,
      size: i.size,
      diskFormat: i.disk_format,
      containerFormat: i.container_format,
      properties: i.properties,
    };
  }

  async uploadSnapshot(id: string, diskFormat: string, data: Readable, size: number): Promise<void> {
    // The record was made as raw; a driver handing over qcow2 says so before the bytes are inspected.
    if (diskFormat !== 'raw')
      await this.image.images.update(COMPUTE_SERVICE, id, [
        { op: 'replace', path: ['disk_format'], value: diskFormat },
      ]);
    await this.image.uploadImageData(COMPUTE_SERVICE, id, data, size);
  }

  async listBackups(instanceId: string, backupType: string): Promise<{ id: string; createdAt: string }[]> {
    const out: { id: string; createdAt: string }[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.image.list(COMPUTE_SERVICE, {
        instance_uuid: instanceId,
        image_type: 'backup',
        backup_type: backupType,
        sort_key: 'created_at',
        sort_dir: 'desc',
        limit: '100',
        ...(marker ? { marker } : {}),
      });
      out.push(...page.images.map((i) => ({ id: i.id, createdAt: i.created_at })));
      if (!page.next) return out;
      marker = page.next;
    }
  }

  async deleteImage(id: string): Promise<void> {
    await this.image.deleteImage(COMPUTE_SERVICE, id).catch(() => {});
  }
}

const portOf = (
  o: Record<string, unknown>,
  networkName: string,
  floating: string[],
  createdByCompute: boolean,
): ComputePort => ({
  id: String(o.id),
  networkId: String(o.network_id),
  networkName,
  mac: String(o.mac_address),
  fixedIps: ((o.fixed_ips as { subnet_id: string; ip_address: string }[] | undefined) ?? []).map((f) => ({
    ipAddress: f.ip_address,
    subnetId: f.subnet_id,
    version: f.ip_address.includes(':') ? (6 as const) : (4 as const),
  })),
  floatingIps: floating,
  status: String(o.status ?? 'ACTIVE'),
  createdByCompute,
});

/** Compute's view of Neutron, over the in-process NetworkService. */
export class NetworkServiceAdapter implements ComputeNetworkPort {
  /** Ports users passed in, per instance (they are unbound, not deleted, on delete). */
  constructor(private readonly net: NetworkService) {}

  async autoNetworks(ctx: AuthContext): Promise<string[]> {
    try {
      return [await this.net.autoNetwork(ctx)];
    } catch (e) {
      if (isCloudError(e) && e.status === 409 && /ambiguous|Multiple/i.test(e.message)) {
        throw conflict('Multiple possible networks found, use a Network ID to be more specific.', {
          code: 'NetworkAmbiguous',
        });
      }
      if (isCloudError(e))
        throw badRequest(`Unable to automatically allocate a network for project ${ctx.projectId ?? ''}`, {
          code: 'UnableToAutoAllocateNetwork',
        });
      throw e;
    }
  }

  async validate(ctx: AuthContext, requests: NicRequest[]): Promise<void> {
    for (const r of requests) {
      if (r.kind === 'network') {
        const n = await this.net.networks.get(ctx, r.networkId).catch(() => null);
        if (!n) throw badRequest(`Network ${r.networkId} could not be found.`, { code: 'NetworkNotFound' });
        // Nova's _check_external_network_attach: an external network is visible to all, but only an admin (or the
        // owner, or a shared one) may plug an instance into it; refused here, before anything is queued.
        if (n.router_external && !n.shared && !isAdmin(ctx) && n.project_id !== ctx.projectId) {
          throw forbidden(`It is not allowed to create an interface on external network ${r.networkId}`, {
            code: 'ExternalNetworkAttachForbidden',
          });
        }
      } else {
        const p = await this.net.ports.get(ctx, r.portId).catch(() => null);
        if (!p) throw badRequest(`Port id ${r.portId} could not be found.`, { code: 'PortNotFound' });
        if (p.device_id) throw conflict(`Port ${r.portId} is still in use.`, { code: 'PortInUse' });
      }
    }
  }

  async validateSecurityGroups(ctx: AuthContext, names: string[]): Promise<void> {
    await this.securityGroupIds(ctx, names);
  }

  private async securityGroupIds(ctx: AuthContext, names: string[]): Promise<string[] | undefined> {
    if (names.length === 0) return undefined;
    const groups = await this.net.securityGroups.list(ctx);
    return names.map((n) => {
      const hit = groups.filter((g) => g.id === n || g.name === n);
      if (hit.length === 0)
        throw badRequest(`Security group ${n} not found for project ${ctx.projectId ?? ''}.`, {
          code: 'SecurityGroupNotFound',
        });
      if (hit.length > 1)
        throw conflict(`Multiple security groups found matching '${n}'. Use an ID to be more specific.`, {
          code: 'NoUniqueMatch',
        });
      return hit[0]!.id;
    });
  }

  async allocate(
    instance: { id: string; projectId: string; userId: string; host: string; hostname: string },
    requests: NicRequest[],
    securityGroups: string[],
  ): Promise<ComputePort[]> {
    const ctx = projectMemberContext(instance.projectId, instance.userId);
    const groups = await this.securityGroupIds(
      ctx,
      securityGroups.filter((g) => g !== 'default' || securityGroups.length > 1 || true),
    );
    const made: ComputePort[] = [];
    try {
      for (const r of requests) {
        const o = await this.net.createInstancePort(
          r.kind === 'port' ? COMPUTE_SERVICE : ctx,
          instance.id,
          r.kind === 'port'
            ? { portId: r.portId, hostId: instance.host }
            : {
                networkId: r.networkId,
                ...(r.fixedIp ? { fixedIp: r.fixedIp } : {}),
                ...(groups ? { securityGroups: groups } : {}),
                hostId: instance.host,
              },
        );
        const net = await this.net.networks.find(String(o.network_id));
        made.push(portOf(o, net?.name ?? '', [], r.kind !== 'port'));
      }
    } catch (e) {
      await this.deallocate(instance.id, made);
      throw e;
    }
    return made;
  }

  async deallocate(instanceId: string, ports: { id: string; createdByCompute: boolean }[]): Promise<void> {
    await this.net.releaseInstancePorts(
      instanceId,
      ports.filter((p) => !p.createdByCompute).map((p) => p.id),
    );
  }

  async listPorts(instanceId: string): Promise<ComputePort[]> {
    const ports = await this.net.serverPorts(instanceId);
    const addrs = await this.net.serverAddresses(instanceId);
    const out: ComputePort[] = [];
    for (const o of ports) {
      const net = await this.net.networks.find(String(o.network_id));
      const floating = addrs.filter((a) => a.portId === o.id && a.type === 'floating').map((a) => a.ip);
      out.push(portOf(o, net?.name ?? '', floating, String(o.device_owner ?? '') === 'compute:nova'));
    }
    return out;
  }
}
