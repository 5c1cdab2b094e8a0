// IPAM for one port: which subnets and addresses a port's fixed_ips request means (automatic: one address per IPv4
// and stateful IPv6 subnet, EUI-64 on SLAAC subnets; or the subnets and addresses asked for), allocated through
// Ipam inside the caller's transaction.
import type { Db } from './common.js';
import { badInput, nerr } from './common.js';
import { isAutoAddress, type Subnet } from './subnets.js';
import type { Ipam } from './ipam.js';
import type { PortSpec } from './port-spec.js';
import { contains, eui64, formatIp, parseCidr, tryParseIp } from './ipaddr.js';

function subnetsOf(db: Db, networkId: string): Promise<Subnet[]> {
  return db
    .selectFrom('net_subnets')
    .selectAll()
    .where('network_id', '=', networkId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Resolves and allocates the fixed IPs of a port inside the transaction. */
export async function allocatePortIps(ipam: Ipam, db: Db, spec: PortSpec, portId: string, mac: string): Promise<void> {
  const subnets = await subnetsOf(db, spec.network.id);
  const isRouter = (spec.deviceOwner ?? '').startsWith('network:router');
  if (spec.fixedIps === undefined) {
    for (const version of [4, 6]) {
      const stateful = subnets.filter((s) => s.ip_version === version && !isAutoAddress(s));
      let last: unknown;
      for (const s of stateful) {
        try {
          await ipam.allocate(db, s, portId);
          last = null;
          break;
        } catch (e) {
          last = e;
        }
      }
      if (last) throw last;
    }
    if (!isRouter) {
      for (const s of subnets.filter(isAutoAddress)) {
        await ipam.allocateSpecific(db, s, formatIp(6, eui64(parseCidr(s.cidr), mac)), portId);
      }
    }
    return;
  }
  for (const req of spec.fixedIps) {
    let subnet: Subnet | undefined;
    if (req.subnet_id !== undefined) {
      subnet = subnets.find((s) => s.id === req.subnet_id);
      if (!subnet) {
        const exists = await db
          .selectFrom('net_subnets')
          .select('id')
          .where('id', '=', req.subnet_id)
          .executeTakeFirst();
        if (!exists) throw nerr('NotFound', 'SubnetNotFound', `Subnet ${req.subnet_id} could not be found.`);
        throw badInput(
          `Failed to create port on network ${spec.network.id}, because fixed_ips included invalid subnet ` +
            `${req.subnet_id}.`,
        );
      }
    }
    if (req.ip_address !== undefined) {
      const ip = tryParseIp(req.ip_address);
      if (!ip) throw badInput(`'${req.ip_address}' is not a valid IP address.`);
      if (subnet) {
        if (!contains(parseCidr(subnet.cidr), ip.value) || ip.version !== subnet.ip_version) {
          throw nerr(
            'BadRequest',
            'InvalidIpForSubnet',
            `IP address ${req.ip_address} is not a valid IP for the specified subnet.`,
          );
        }
      } else {
        subnet = subnets.find((s) => s.ip_version === ip.version && contains(parseCidr(s.cidr), ip.value));
        if (!subnet)
          throw nerr(
            'BadRequest',
            'InvalidIpForNetwork',
            `IP address ${req.ip_address} is not a valid IP for any of the subnets on the specified network.`,
          );
      }
      if (isAutoAddress(subnet) && !isRouter) {
        throw badInput(
          `IPv6 address ${req.ip_address} cannot be directly assigned to a port on subnet ${subnet.id} since the ` +
            `subnet is configured for automatic addresses`,
        );
      }
      await ipam.allocateSpecific(db, subnet, req.ip_address, portId);
    } else if (subnet) {
      if (isAutoAddress(subnet) && !isRouter)
        await ipam.allocateSpecific(db, subnet, formatIp(6, eui64(parseCidr(subnet.cidr), mac)), portId);
      else await ipam.allocate(db, subnet, portId);
    } else {
      throw badInput('Each fixed_ips entry needs a subnet_id or an ip_address.');
    }
  }
}
