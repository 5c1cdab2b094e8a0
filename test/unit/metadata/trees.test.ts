// The metadata trees read the way cloud-init 22.4 reads them (DataSourceOpenStack via helpers/openstack.py,
// DataSourceEc2 via helpers/ec2.py's materializer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lookup,
  rootTree,
  configDriveFiles,
  OPENSTACK_VERSIONS,
  type Lookup,
} from '../../../src/services/metadata/trees.js';
import { sampleMetadata } from './fixture.js';

const O = { dhcpDomain: 'novalocal' };
const text = (l: Lookup) =>
  l && l.kind === 'file' ? l.body.toString('utf8') : assert.fail(`not a file: ${JSON.stringify(l)}`);
const list = (l: Lookup) => (l && l.kind === 'dir' ? l.listing : assert.fail(`not a directory: ${JSON.stringify(l)}`));

/** The version cloud-init picks: the newest of its known list present in the /openstack listing, else latest. */
function cloudInitVersion(listing: string[]): string {
  const known = [
    '2012-08-10',
    '2013-04-04',
    '2013-10-17',
    '2015-10-15',
    '2016-06-30',
    '2016-10-06',
    '2017-02-22',
    '2018-08-27',
  ];
  return [...known].reverse().find((v) => listing.includes(v)) ?? 'latest';
}

/** A crawl with cloud-init's EC2 rules: "x/" is a child directory, "N=name" a key whose leaf is N/openssh-key. */
function crawl(tree: ReturnType<typeof rootTree>, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of list(lookup(tree, base))) {
    if (line.endsWith('/')) {
      out[line.slice(0, -1)] = crawl(tree, `${base}/${line}`);
      continue;
    }
    const eq = line.indexOf('=');
    const [field, resource] =
      eq > 0 && /^\d+$/.test(line.slice(0, eq))
        ? [line.slice(eq + 1), `${line.slice(0, eq)}/openssh-key`]
        : [line, line];
    const body = text(lookup(tree, `${base}/${resource}`));
    out[field] = body.includes('\n') ? body.split('\n') : body;
  }
  return out;
}

test('/openstack lists every version and latest; cloud-init picks 2018-08-27 and finds its five files', () => {
  const tree = rootTree(sampleMetadata(), O);
  const versions = list(lookup(tree, 'openstack'));
  assert.deepEqual(versions, [...OPENSTACK_VERSIONS, 'latest']);
  const v = cloudInitVersion(versions);
  assert.equal(v, '2018-08-27');
  for (const f of ['meta_data.json', 'user_data', 'vendor_data.json', 'vendor_data2.json', 'network_data.json']) {
    assert.ok(lookup(tree, `openstack/${v}/${f}`), `${f} missing`);
  }
  assert.deepEqual(list(lookup(tree, 'openstack/2012-08-10')).sort(), [
    'meta_data.json',
    'password',
    'user_data',
    'vendor_data.json',
  ]);
});

test("meta_data.json has what cloud-init requires and copies (uuid, hostname) and Nova's other keys", () => {
  const md = JSON.parse(text(lookup(rootTree(sampleMetadata(), O), 'openstack/2018-08-27/meta_data.json')));
  assert.equal(md.uuid, '11111111-2222-4333-8444-555555555555');
  assert.equal(md.hostname, 'vm1.novalocal');
  assert.equal(md.name, 'vm1');
  assert.deepEqual(md.public_keys, { k: 'ssh-ed25519 AAAAC3Nza k@host' });
  assert.deepEqual(md.keys, [{ name: 'k', type: 'ssh', data: 'ssh-ed25519 AAAAC3Nza k@host' }]);
  assert.equal(md.launch_index, 0);
  assert.equal(md.availability_zone, 'nova');
  assert.equal(md.project_id, 'proj1');
  assert.deepEqual(md.devices, []);
  assert.deepEqual(md.meta, { role: 'web' });
  assert.equal(Buffer.from(md.random_seed, 'base64').length, 512);
  const old = JSON.parse(text(lookup(rootTree(sampleMetadata(), O), 'openstack/2012-08-10/meta_data.json')));
  assert.equal(old.keys, undefined);
  assert.equal(old.project_id, undefined);
  assert.equal(old.random_seed, undefined);
});

test('no key and no user data: no public_keys, no user_data file (404), no EC2 public-keys', () => {
  const tree = rootTree(sampleMetadata({ keys: [], userData: null }), O);
  const md = JSON.parse(text(lookup(tree, 'openstack/latest/meta_data.json')));
  assert.equal(md.public_keys, undefined);
  assert.equal(lookup(tree, 'openstack/latest/user_data'), null);
  assert.equal(lookup(tree, 'latest/user-data'), null);
  assert.ok(!list(lookup(tree, 'latest/meta-data')).includes('public-keys/'));
});

test('network_data.json describes each NIC by MAC with an ipv4_dhcp network', () => {
  const nd = JSON.parse(text(lookup(rootTree(sampleMetadata(), O), 'openstack/latest/network_data.json')));
  assert.deepEqual(nd.links, [
    {
      id: 'tapa1b2c3d4-e5',
      vif_id: 'a1b2c3d4-e5f6-4000-8000-000000000001',
      type: 'bridge',
      ethernet_mac_address: 'fa:16:3e:00:00:01',
    },
  ]);
  assert.deepEqual(nd.networks, [{ id: 'network0', type: 'ipv4_dhcp', link: 'tapa1b2c3d4-e5', network_id: 'net-1' }]);
  assert.deepEqual(nd.services, []);
});

test("EC2 meta-data crawled with cloud-init's rules gives the keys it reads", () => {
  const tree = rootTree(sampleMetadata(), O);
  assert.ok(list(lookup(tree, '')).includes('2009-04-04'));
  assert.deepEqual(list(lookup(tree, 'latest')), ['meta-data/', 'user-data']);
  const md = crawl(tree, 'latest/meta-data');
  assert.equal(md.hostname, 'vm1.novalocal');
  assert.equal(md['local-hostname'], 'vm1.novalocal');
  assert.equal(md['instance-id'], 'i-0000001a');
  assert.match(String(md['ami-id']), /^ami-[0-9a-f]{8}$/);
  assert.equal(md['instance-type'], 'm1.nano');
  assert.equal(md['local-ipv4'], '10.0.0.5');
  assert.equal(md['public-ipv4'], '172.24.4.10');
  assert.deepEqual(md.placement, { 'availability-zone': 'nova' });
  assert.deepEqual(md['block-device-mapping'], { ami: 'vda', root: '/dev/vda' });
  assert.deepEqual(md['public-keys'], { k: 'ssh-ed25519 AAAAC3Nza k@host' });
  assert.deepEqual(md['security-groups'], ['default', 'web']);
  assert.match(String(md['kernel-id']), /^aki-/);
  assert.equal(text(lookup(tree, '2009-04-04/user-data')), '#!/bin/sh\necho hi\n');
  assert.deepEqual(list(lookup(tree, 'latest/meta-data/public-keys')), ['0=k']);
  assert.deepEqual(list(lookup(tree, 'latest/meta-data/public-keys/0')), ['openssh-key']);
});

test('paths outside the tree, through files, or with odd parts resolve to nothing', () => {
  const tree = rootTree(sampleMetadata(), O);
  for (const p of [
    'nope',
    'openstack/1999-01-01/meta_data.json',
    'openstack/latest/meta_data.json/x',
    'latest/meta-data/constructor',
    'latest/meta-data/__proto__',
  ]) {
    assert.equal(lookup(tree, p), null, p);
  }
  assert.ok(lookup(tree, '/openstack//latest/'));
});

test('the config drive carries the OpenStack versions and EC2 JSON, never the password file', () => {
  const files = new Map(configDriveFiles(sampleMetadata({ password: 'secret' }), O));
  assert.ok(files.has('openstack/latest/meta_data.json'));
  assert.ok(files.has('openstack/2018-08-27/network_data.json'));
  assert.equal(files.get('openstack/latest/user_data')!.toString(), '#!/bin/sh\necho hi\n');
  assert.ok(![...files.keys()].some((k) => k.endsWith('/password')));
  const ec2 = JSON.parse(files.get('ec2/latest/meta-data.json')!.toString());
  assert.equal(ec2['public-keys']['0']['openssh-key'], 'ssh-ed25519 AAAAC3Nza k@host');
  assert.equal(ec2.hostname, 'vm1.novalocal');
});
