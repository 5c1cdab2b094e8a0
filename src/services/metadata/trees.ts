// The metadata trees Nova serves, built from one instance: OpenStack (/openstack/<version>/...) and EC2
// (/<version>/meta-data/..., user-data). The HTTP service and the config drive both read these trees.
import { createHash, randomBytes } from 'node:crypto';
import type { InstanceMetadata, MetadataOptions } from './model.js';

/** A leaf is bytes or text; a directory maps names to nodes. `listing` overrides the names a directory shows. */
export type MetadataNode = string | Buffer | MetadataDir;
export interface MetadataDir {
  dir: Record<string, MetadataNode>;
  /** EC2's public-keys/ lists "0=name" while the child is "0". */
  listing?: string[];
}

/** Nova's OpenStack metadata versions, oldest first (cloud-init picks the newest it knows from this list). */
export const OPENSTACK_VERSIONS = [
  '2012-08-10',
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
  '2020-10-14',
] as const;

/** Nova's EC2 metadata versions, oldest first. */
export const EC2_VERSIONS = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
] as const;

const atLeast = (version: string, since: string) => version === 'latest' || version >= since;

/** The host name the guest is given: `hostname.dhcp_domain`, as Nova's metadata does. */
export function fqdn(md: InstanceMetadata, o: MetadataOptions): string {
  return o.dhcpDomain ? `${md.hostname}.${o.dhcpDomain}` : md.hostname;
}

/** EC2-style ids from a sequence number or a uuid ("i-0000000a", "ami-1a2b3c4d"). */
export function ec2Id(prefix: string, seqOrUuid: number | string): string {
  if (typeof seqOrUuid === 'number') return `${prefix}-${(seqOrUuid % 0x100000000).toString(16).padStart(8, '0')}`;
  return `${prefix}-${createHash('sha256').update(seqOrUuid).digest('hex').slice(0, 8)}`;
}

// ---------------------------------------------------------------------------------------------- OpenStack

/** meta_data.json for one version (random_seed differs per call, as in Nova). */
export function openstackMetaData(md: InstanceMetadata, o: MetadataOptions, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { uuid: md.uuid, meta: md.meta };
  if (md.keys.length) {
    out.public_keys = Object.fromEntries(md.keys.map((k) => [k.name, k.data]));
    if (atLeast(version, '2013-04-04')) out.keys = md.keys.map((k) => ({ name: k.name, type: k.type, data: k.data }));
  }
  out.hostname = fqdn(md, o);
  out.name = md.name;
  out.launch_index = md.launchIndex;
  out.availability_zone = md.availabilityZone;
  if (atLeast(version, '2013-04-04')) out.random_seed = randomBytes(512).toString('base64');
  if (atLeast(version, '2015-10-15')) out.project_id = md.projectId;
  if (atLeast(version, '2016-06-30')) out.devices = [];
  if (atLeast(version, '2020-10-14')) out.dedicated_cpus = [];
  return out;
}

/**
 * network_data.json: one link per NIC (by MAC) with a DHCP network for IPv4. The guest's address comes from DHCP
 * on its data plane (slirp in user mode, dnsmasq when bridged), so a static address would be wrong in user mode.
 */
export function networkData(md: InstanceMetadata): Record<string, unknown> {
  const links: Record<string, unknown>[] = [];
  const networks: Record<string, unknown>[] = [];
  md.nics.forEach((nic) => {
    const id = `tap${nic.portId.slice(0, 11)}`;
    links.push({ id, vif_id: nic.portId, type: 'bridge', ethernet_mac_address: nic.mac });
    if (nic.fixedIps.some((f) => f.version === 4) || nic.fixedIps.length === 0) {
      networks.push({ id: `network${networks.length}`, type: 'ipv4_dhcp', link: id, network_id: nic.networkId });
    }
  });
  return { links, networks, services: [] };
}

/** The files of one OpenStack version directory. */
export function openstackVersionDir(md: InstanceMetadata, o: MetadataOptions, version: string): MetadataDir {
  const dir: Record<string, MetadataNode> = {
    'meta_data.json': JSON.stringify(openstackMetaData(md, o, version)),
    password: md.password,
    'vendor_data.json': '{}',
  };
  if (md.userData) dir.user_data = md.userData;
  if (atLeast(version, '2015-10-15')) dir['network_data.json'] = JSON.stringify(networkData(md));
  if (atLeast(version, '2016-10-06')) dir['vendor_data2.json'] = '{}';
  return { dir };
}

/** /openstack: every version plus `latest`. Built lazily by `lookup` to avoid computing every version. */
export function openstackTree(md: InstanceMetadata, o: MetadataOptions): MetadataDir {
  const dir: Record<string, MetadataNode> = {};
  for (const v of [...OPENSTACK_VERSIONS, 'latest']) dir[v] = lazyDir(() => openstackVersionDir(md, o, v));
  // Plain names, no trailing "/": cloud-init compares each line with the versions it knows.
  return { dir, listing: [...OPENSTACK_VERSIONS, 'latest'] };
}

// ---------------------------------------------------------------------------------------------- EC2

/** The EC2 meta-data dictionary for one version, as plain values (arrays are newline lists over HTTP). */
export function ec2MetaData(md: InstanceMetadata, o: MetadataOptions, version: string): Record<string, unknown> {
  const host = fqdn(md, o);
  const fixed = md.nics.flatMap((n) => n.fixedIps.filter((f) => f.version === 4).map((f) => f.address));
  const floating = md.nics.flatMap((n) => n.floatingIps);
  const out: Record<string, unknown> = {
    'ami-id': ec2Id('ami', md.imageId),
    'ami-launch-index': String(md.launchIndex),
    'ami-manifest-path': 'FIXME',
    'instance-id': ec2Id('i', md.seq),
    hostname: host,
    'local-ipv4': fixed[0] ?? '',
    'reservation-id': md.reservationId,
    'security-groups': md.securityGroups,
  };
  if (atLeast(version, '2007-01-19')) {
    out['local-hostname'] = host;
    out['public-hostname'] = host;
    out['public-ipv4'] = floating[0] ?? '';
  }
  if (atLeast(version, '2007-08-29')) out['instance-type'] = md.flavorName;
  if (atLeast(version, '2007-10-10')) {
    if (md.kernelId) out['kernel-id'] = ec2Id('aki', md.kernelId);
    if (md.ramdiskId) out['ramdisk-id'] = ec2Id('ari', md.ramdiskId);
  }
  if (atLeast(version, '2007-12-15')) out['block-device-mapping'] = { ami: 'vda', root: '/dev/vda' };
  if (atLeast(version, '2008-02-01')) out.placement = { 'availability-zone': md.availabilityZone };
  if (atLeast(version, '2008-09-01')) out['instance-action'] = 'none';
  if (atLeast(version, '2009-04-04') && md.keys.length) {
    out['public-keys'] = Object.fromEntries(
      md.keys.map((k, i) => [String(i), { _name: `${i}=${k.name}`, 'openssh-key': k.data }]),
    );
  }
  return out;
}

/** Turns the EC2 dictionary into a served tree: sub-dictionaries are directories, arrays newline lists. */
function ec2Node(v: unknown): MetadataNode {
  if (Array.isArray(v)) return v.map(String).join('\n');
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => k !== '_name');
    const dir: Record<string, MetadataNode> = {};
    let names = false;
    const listing: string[] = [];
    for (const [k, child] of entries) {
      dir[k] = ec2Node(child);
      const name =
        child && typeof child === 'object' && !Array.isArray(child)
          ? (child as Record<string, unknown>)._name
          : undefined;
      if (typeof name === 'string') {
        names = true;
        listing.push(name);
      } else {
        listing.push(typeof dir[k] === 'object' && !Buffer.isBuffer(dir[k]) ? `${k}/` : k);
      }
    }
    return names ? { dir, listing } : { dir };
  }
  return String(v ?? '');
}

/** One EC2 version: meta-data/ and, when given, user-data. */
export function ec2VersionDir(md: InstanceMetadata, o: MetadataOptions, version: string): MetadataDir {
  const dir: Record<string, MetadataNode> = { 'meta-data': ec2Node(ec2MetaData(md, o, version)) };
  if (md.userData) dir['user-data'] = md.userData;
  return { dir };
}

/** The whole tree a guest sees at http://169.254.169.254/. */
export function rootTree(md: InstanceMetadata, o: MetadataOptions): MetadataDir {
  const dir: Record<string, MetadataNode> = { openstack: openstackTree(md, o) };
  for (const v of [...EC2_VERSIONS, 'latest']) dir[v] = lazyDir(() => ec2VersionDir(md, o, v));
  // The root lists the EC2 versions only, as Nova does; /openstack is found by name.
  return { dir, listing: [...EC2_VERSIONS, 'latest'] };
}

// ---------------------------------------------------------------------------------------------- lookup

const LAZY = Symbol('lazy');
type LazyDir = MetadataDir & { [LAZY]?: () => MetadataDir };

function lazyDir(make: () => MetadataDir): MetadataDir {
  const d: LazyDir = { dir: {} };
  d[LAZY] = make;
  return d;
}

function force(d: MetadataDir): MetadataDir {
  const make = (d as LazyDir)[LAZY];
  return make ? make() : d;
}

/** What a path resolves to: a file's bytes, a directory's listing, or nothing. */
export type Lookup = { kind: 'file'; body: Buffer; name: string } | { kind: 'dir'; listing: string[] } | null;

/** The listing of a directory: sub-directories end with "/". */
export function listingOf(d: MetadataDir): string[] {
  if (d.listing) return d.listing;
  const real = force(d);
  if (real.listing) return real.listing;
  return Object.entries(real.dir).map(([k, v]) => (typeof v === 'object' && !Buffer.isBuffer(v) ? `${k}/` : k));
}

/** Resolves "openstack/latest/meta_data.json" (leading/trailing slashes and empty parts ignored). */
export function lookup(tree: MetadataDir, path: string): Lookup {
  const parts = path.split('/').filter((p) => p.length > 0);
  let node: MetadataNode = tree;
  for (const p of parts) {
    if (typeof node !== 'object' || Buffer.isBuffer(node)) return null;
    const d: MetadataDir = force(node);
    if (!Object.hasOwn(d.dir, p)) return null;
    node = d.dir[p]!;
  }
  if (typeof node === 'string')
    return { kind: 'file', body: Buffer.from(node, 'utf8'), name: parts[parts.length - 1] ?? '' };
  if (Buffer.isBuffer(node)) return { kind: 'file', body: node, name: parts[parts.length - 1] ?? '' };
  return { kind: 'dir', listing: listingOf(node) };
}

/**
 * Every file of the tree as [path, bytes], for the config drive: the OpenStack versions under openstack/ and
 * EC2's JSON form (ec2/<version>/meta-data.json, user-data) as Nova writes it.
 */
export function configDriveFiles(md: InstanceMetadata, o: MetadataOptions): [string, Buffer][] {
  const files: [string, Buffer][] = [];
  for (const v of [...OPENSTACK_VERSIONS, 'latest']) {
    for (const [name, node] of Object.entries(openstackVersionDir(md, o, v).dir)) {
      if (name === 'password') continue;
      files.push([`openstack/${v}/${name}`, Buffer.isBuffer(node) ? node : Buffer.from(node as string, 'utf8')]);
    }
  }
  for (const v of ['2009-04-04', 'latest']) {
    files.push([`ec2/${v}/meta-data.json`, Buffer.from(JSON.stringify(ec2MetaData(md, o, v)), 'utf8')]);
    if (md.userData) files.push([`ec2/${v}/user-data`, md.userData]);
  }
  return files;
}
