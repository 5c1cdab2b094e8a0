import { createHash } from 'node:crypto';
import type { InstanceRow } from '../../services/compute/model.js';
import type { AuthContext } from '../../services/auth-context.js';
import { isAdmin } from '../../services/auth-context.js';
import type { Flavor } from '../../services/compute/flavors.js';
import type { Keypair } from '../../services/compute/keypairs.js';
import { diskConfigOf } from '../../services/compute/disk-config.js';
import { extras, instanceName } from '../../services/compute/model.js';
import type { ComputePort } from '../../services/compute/peer-services.js';
import { PROGRESS_STATUSES, statusOf } from '../../services/compute/states.js';
import { novaTime } from '../../services/compute/common.js';
import type { ApiVersion } from './microversion.js';

/** Builds Nova's links and bodies. `base` is .../compute/v2.1, `root` .../compute (bookmarks). */
export class ComputeViews {
  constructor(
    readonly base: string,
    readonly root: string,
  ) {}

  links(kind: string, id: string) {
    return [
      { rel: 'self', href: `${this.base}/${kind}/${id}` },
      { rel: 'bookmark', href: `${this.root}/${kind}/${id}` },
    ];
  }

  flavorBrief(f: Flavor, v: ApiVersion) {
    return {
      id: f.id,
      name: f.name,
      links: this.links('flavors', f.id),
      ...(v.atLeast('2.55') ? { description: f.description } : {}),
    };
  }

  flavor(f: Flavor, v: ApiVersion, showSpecs: boolean) {
    return {
      id: f.id,
      name: f.name,
      ram: f.ram,
      disk: f.disk,
      vcpus: f.vcpus,
      links: this.links('flavors', f.id),
      'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
      'OS-FLV-DISABLED:disabled': f.disabled,
      swap: v.atLeast('2.75') ? f.swap : f.swap === 0 ? '' : f.swap,
      rxtx_factor: f.rxtxFactor,
      'os-flavor-access:is_public': f.isPublic,
      ...(v.atLeast('2.55') ? { description: f.description } : {}),
      ...(v.atLeast('2.61') && showSpecs ? { extra_specs: f.extraSpecs } : {}),
    };
  }

  keypair(k: Keypair, v: ApiVersion, opts: { full?: boolean; created?: boolean } = {}) {
    const out: Record<string, unknown> = { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint };
    if (opts.created) {
      out.user_id = k.userId;
      if (k.privateKey) out.private_key = k.privateKey;
    }
    if (opts.full)
      Object.assign(out, {
        user_id: k.userId,
        created_at: k.createdAt.replace(/Z$/, '').replace(/(\.\d{3})$/, '$1000'),
        deleted: false,
        deleted_at: null,
        updated_at: null,
        id: k.id,
      });
    if (v.atLeast('2.2')) out.type = k.type;
    return out;
  }

  addresses(ports: ComputePort[]) {
    const out: Record<
      string,
      { version: number; addr: string; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string }[]
    > = {};
    for (const p of ports) {
      const list = (out[p.networkName] ??= []);
      for (const ip of p.fixedIps)
        list.push({
          version: ip.version,
          addr: ip.ipAddress,
          'OS-EXT-IPS:type': 'fixed',
          'OS-EXT-IPS-MAC:mac_addr': p.mac,
        });
      for (const ip of p.floatingIps)
        list.push({
          version: ip.includes(':') ? 6 : 4,
          addr: ip,
          'OS-EXT-IPS:type': 'floating',
          'OS-EXT-IPS-MAC:mac_addr': p.mac,
        });
    }
    return out;
  }

  serverBrief(r: InstanceRow) {
    return { id: r.id, name: r.name, links: this.links('servers', r.id) };
  }

  /** The full server body at microversion `v` for caller `ctx`. */
  server(
    r: InstanceRow,
    v: ApiVersion,
    ctx: AuthContext,
    opts: {
      ports?: ComputePort[];
      hostStatus?: string;
      minimal?: boolean;
      groups?: boolean;
      volumes?: { volumeId: string; deleteOnTermination: boolean }[];
    } = {},
  ) {
    const x = extras(r);
    const admin = isAdmin(ctx);
    const status = statusOf(r.vm_state, r.task_state);
    const f = x.flavor;
    const flavor = v.atLeast('2.47')
      ? {
          vcpus: f.vcpus,
          ram: f.ram,
          disk: f.disk,
          ephemeral: f.ephemeral,
          swap: f.swap,
          original_name: f.name,
          extra_specs: f.extraSpecs,
        }
      : { id: r.flavor_id, links: [{ rel: 'bookmark', href: `${this.root}/flavors/${r.flavor_id}` }] };
    const out: Record<string, unknown> = {
      id: r.id,
      name: r.name,
      status,
      tenant_id: r.project_id,
      user_id: r.user_id,
      metadata: x.metadata,
      hostId: r.host
        ? createHash('sha224')
            .update(r.project_id + r.host)
            .digest('hex')
        : '',
      image: r.image_ref
        ? { id: r.image_ref, links: [{ rel: 'bookmark', href: `${this.root}/images/${r.image_ref}` }] }
        : '',
      flavor,
      created: novaTime(r.created_at),
      updated: novaTime(r.updated_at),
      addresses: this.addresses(opts.ports ?? x.ports),
      accessIPv4: r.access_ip_v4 ?? '',
      accessIPv6: r.access_ip_v6 ?? '',
      links: this.links('servers', r.id),
      'OS-DCF:diskConfig': diskConfigOf(x.systemMetadata),
      key_name: r.key_name,
      // Nova leaves security_groups out when the server has none (e.g. all removed).
      ...(x.securityGroups.length ? { security_groups: x.securityGroups.map((name) => ({ name })) } : {}),
      'OS-SRV-USG:launched_at': r.launched_at ? r.launched_at.replace(/Z$/, '').replace(/(\.\d{3})$/, '$1000') : null,
      'OS-SRV-USG:terminated_at': r.terminated_at
        ? r.terminated_at.replace(/Z$/, '').replace(/(\.\d{3})$/, '$1000')
        : null,
      'OS-EXT-AZ:availability_zone': r.availability_zone ?? '',
      'OS-EXT-STS:task_state': r.task_state,
      'OS-EXT-STS:vm_state': r.vm_state,
      'OS-EXT-STS:power_state': r.power_state,
      config_drive: r.config_drive ? 'True' : '',
      'os-extended-volumes:volumes_attached': (opts.volumes ?? []).map((a) => ({
        id: a.volumeId,
        ...(v.atLeast('2.3') ? { delete_on_termination: a.deleteOnTermination } : {}),
      })),
    };
    if (PROGRESS_STATUSES.has(status)) out.progress = r.progress;
    if ((status === 'ERROR' || status === 'DELETED') && x.fault) {
      out.fault = {
        code: x.fault.code,
        created: novaTime(x.fault.created),
        message: x.fault.message,
        ...(admin ? { details: x.fault.details ?? '' } : {}),
      };
    }
    if (admin) {
      out['OS-EXT-SRV-ATTR:host'] = r.host;
      out['OS-EXT-SRV-ATTR:instance_name'] = instanceName(r);
      out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = r.node;
      if (v.atLeast('2.3')) {
        Object.assign(out, {
          'OS-EXT-SRV-ATTR:reservation_id': r.reservation_id,
          'OS-EXT-SRV-ATTR:launch_index': r.launch_index,
          'OS-EXT-SRV-ATTR:hostname': r.hostname,
          'OS-EXT-SRV-ATTR:kernel_id': '',
          'OS-EXT-SRV-ATTR:ramdisk_id': '',
          'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
          'OS-EXT-SRV-ATTR:user_data': r.user_data,
        });
      }
    } else if (v.atLeast('2.90')) {
      out['OS-EXT-SRV-ATTR:hostname'] = r.hostname;
    }
    if (opts.minimal) {
      // Update and rebuild answer Nova's plain show view, without the extension attributes.
      for (const k of Object.keys(out)) if (/^(OS-|os-extended)/.test(k) && k !== 'OS-DCF:diskConfig') delete out[k];
      delete out.key_name;
      delete out.security_groups;
      delete out.config_drive;
      for (const list of Object.values(out.addresses as Record<string, Record<string, unknown>[]>)) {
        for (const a of list) {
          delete a['OS-EXT-IPS:type'];
          delete a['OS-EXT-IPS-MAC:mac_addr'];
        }
      }
    }
    if (v.atLeast('2.9')) out.locked = r.locked === 1;
    if (v.atLeast('2.16') && admin && !opts.minimal) out.host_status = opts.hostStatus ?? (r.host ? 'UP' : '');
    if (v.atLeast('2.19')) out.description = r.description;
    if (v.atLeast('2.26')) out.tags = x.tags;
    if (v.atLeast('2.63')) out.trusted_image_certificates = null;
    if (v.atLeast('2.73')) out.locked_reason = r.locked_reason;
    // show, update and rebuild (not lists) name the server's group from 2.71.
    if (opts.groups && v.atLeast('2.71')) out.server_groups = r.server_group_id ? [r.server_group_id] : [];
    return out;
  }

  interfaceAttachment(p: ComputePort, v: ApiVersion) {
    return {
      port_id: p.id,
      net_id: p.networkId,
      mac_addr: p.mac,
      port_state: p.status,
      fixed_ips: p.fixedIps.map((i) => ({ subnet_id: i.subnetId, ip_address: i.ipAddress })),
      ...(v.atLeast('2.70') ? { tag: null } : {}),
    };
  }
}
