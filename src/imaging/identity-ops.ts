// The named list of per-instance identity a golden image must not carry. `audit` reports what each operation
// finds; `seal` applies the changes the same operation proposes, so one list serves both, and an image that
// was sealed makes every `find` return nothing (which is what makes `seal` idempotent).
import { ImagingError } from './errors.js';
import { isDir, isLink, isReg, type GuestStat } from './guestfish.js';
import type { Action, GuestView } from './guest-view.js';
import {
  isGenericHostname,
  isMachineIdSet,
  lockShadow,
  stripHostsSelf,
  stripIfcfg,
  stripInterfaces,
  stripNetplan,
  stripNetworkd,
  stripNmConnection,
  stripSysconfigHostname,
  type Edit,
} from './text-edits.js';

/** One identity found in an image, and the change that removes it. */
export interface Finding {
  op: string;
  path: string;
  /** What is there, for the report ("SSH host key", "password of root is usable", ...). */
  what: string;
  action: Action;
}

/** One sealing operation. */
export interface IdentityOp {
  name: string;
  description: string;
  /** Run by `seal` unless skipped; false for opt-in operations. */
  defaultOn: boolean;
  /** Reported by `audit` (opt-in markers like /.unconfigured are not identity). */
  audited: boolean;
  find(v: GuestView): Promise<Finding[]>;
}

type Entry = { path: string; stat: GuestStat };

/** Entries below `dir` (recursively, or only its direct children) with their lstat. */
async function entries(v: GuestView, dir: string, recursive = false): Promise<Entry[]> {
  const names = (await v.find(dir)).filter((n) => recursive || !n.includes('/'));
  const paths = names.map((n) => `${dir}/${n}`);
  const stats = await v.lstatMany(paths);
  return paths.map((path, i) => ({ path, stat: stats[i]! }));
}

/** Regular files directly in `dir` whose name passes `test`. */
async function filesIn(v: GuestView, dir: string, test: (name: string) => boolean): Promise<Entry[]> {
  return (await entries(v, dir)).filter((e) => isReg(e.stat) && test(e.path.slice(dir.length + 1)));
}

/** A regular file at `path`, or undefined. */
async function regular(v: GuestView, path: string): Promise<GuestStat | undefined> {
  const st = await v.lstat(path);
  return st && isReg(st) ? st : undefined;
}

/** Home directories to look into: /root and every directory in /home. */
async function homes(v: GuestView): Promise<string[]> {
  const out = ['/root'];
  for (const e of await entries(v, '/home')) if (isDir(e.stat)) out.push(e.path);
  return out;
}

/** A finding per file whose text `edit` changes (the file is rewritten with the edited text). */
async function editFiles(
  v: GuestView,
  op: string,
  files: Entry[],
  edit: (t: string, path: string) => Edit | undefined,
  what: string,
): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const f of files) {
    const text = (await v.read(f.path)).toString('utf8');
    const e = edit(text, f.path);
    if (e?.removed.length)
      out.push({
        op,
        path: f.path,
        what: `${what}: ${e.removed.join(', ')}`,
        action: { kind: 'write', content: e.text },
      });
  }
  return out;
}

const del = (op: string, path: string, what: string): Finding => ({ op, path, what, action: { kind: 'delete' } });

const HISTORIES = new Set([
  '.bash_history',
  '.zsh_history',
  '.history',
  '.sh_history',
  '.ash_history',
  '.lesshst',
  '.viminfo',
  '.python_history',
  '.mysql_history',
  '.psql_history',
  '.node_repl_history',
  '.wget-hsts',
  '.sqlite_history',
]);

/** Files cloud-init writes per instance for the network; it writes them again at the first boot of a clone. */
const CLOUD_INIT_NET = [
  '/etc/netplan/50-cloud-init.yaml',
  '/etc/network/interfaces.d/50-cloud-init',
  '/etc/network/interfaces.d/50-cloud-init.cfg',
  '/etc/sysconfig/network-scripts/ifcfg-eth0.cloud-init',
];

/** The operations, in the order seal applies them. */
export const IDENTITY_OPS: readonly IdentityOp[] = [
  {
    name: 'hostname',
    description: 'host name reset to localhost (/etc/hostname, 127.0.1.1 in /etc/hosts, HOSTNAME= in sysconfig)',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      if (await regular(v, '/etc/hostname')) {
        const h = (await v.read('/etc/hostname')).toString('utf8');
        if (!isGenericHostname(h))
          out.push({
            op: 'hostname',
            path: '/etc/hostname',
            what: `host name "${h.trim()}"`,
            action: { kind: 'write', content: 'localhost\n' },
          });
      }
      for (const [path, edit] of [
        ['/etc/hosts', stripHostsSelf],
        ['/etc/sysconfig/network', stripSysconfigHostname],
      ] as const) {
        const st = await regular(v, path);
        if (st) out.push(...(await editFiles(v, 'hostname', [{ path, stat: st }], edit, 'own host name line')));
      }
      return out;
    },
  },
  {
    name: 'ssh-hostkeys',
    description: 'SSH host keys removed (cloud-init makes new ones at first boot)',
    defaultOn: true,
    audited: true,
    async find(v) {
      return (await entries(v, '/etc/ssh'))
        .filter((e) => !isDir(e.stat) && /^ssh_host_.*_key(\.pub|-cert\.pub)?$/.test(e.path.slice(9)))
        .map((e) => del('ssh-hostkeys', e.path, 'SSH host key'));
    },
  },
  {
    name: 'machine-id',
    description:
      '/etc/machine-id emptied (not deleted), D-Bus machine-id linked to it, systemd credential secret removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      if (await regular(v, '/etc/machine-id')) {
        const t = (await v.read('/etc/machine-id')).toString('utf8');
        if (isMachineIdSet(t))
          out.push({
            op: 'machine-id',
            path: '/etc/machine-id',
            what: `machine-id ${t.trim().slice(0, 32)}`,
            action: { kind: 'truncate' },
          });
      }
      const dbus = await regular(v, '/var/lib/dbus/machine-id');
      if (dbus && isMachineIdSet((await v.read('/var/lib/dbus/machine-id')).toString('utf8'))) {
        out.push({
          op: 'machine-id',
          path: '/var/lib/dbus/machine-id',
          what: 'D-Bus machine-id',
          action: { kind: 'symlink', target: '/etc/machine-id' },
        });
      }
      if (await regular(v, '/var/lib/systemd/credential.secret'))
        out.push(del('machine-id', '/var/lib/systemd/credential.secret', 'systemd credential secret'));
      return out;
    },
  },
  {
    name: 'udev-net-rules',
    description: 'udev persistent network rules (/etc/udev/rules.d/70-*, 75-*) removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      return (await entries(v, '/etc/udev/rules.d'))
        .filter((e) => !isDir(e.stat) && /^7[05]-/.test(e.path.slice('/etc/udev/rules.d/'.length)))
        .map((e) => del('udev-net-rules', e.path, 'udev persistent net rule'));
    },
  },
  {
    name: 'net-hwaddr',
    description:
      'MAC addresses and UUIDs removed from ifcfg, netplan, NetworkManager, systemd-networkd and ifupdown files',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      const op = 'net-hwaddr';
      out.push(
        ...(await editFiles(
          v,
          op,
          await filesIn(v, '/etc/sysconfig/network-scripts', (n) => n.startsWith('ifcfg-')),
          stripIfcfg,
          'ifcfg hardware identity',
        )),
      );
      out.push(
        ...(await editFiles(
          v,
          op,
          await filesIn(v, '/etc/netplan', (n) => /\.ya?ml$/.test(n)),
          stripNetplan,
          'netplan MAC',
        )),
      );
      out.push(
        ...(await editFiles(
          v,
          op,
          await filesIn(v, '/etc/NetworkManager/system-connections', () => true),
          stripNmConnection,
          'NetworkManager MAC',
        )),
      );
      for (const f of await filesIn(v, '/etc/systemd/network', (n) => /\.(network|link|netdev)$/.test(n))) {
        const e = stripNetworkd((await v.read(f.path)).toString('utf8'));
        if (!e.removed.length) continue;
        // A .link file whose [Match] is now empty would rename every NIC: remove it instead.
        if (e.emptyMatch && f.path.endsWith('.link'))
          out.push(del(op, f.path, `systemd .link file matching a MAC: ${e.removed.join(', ')}`));
        else
          out.push({
            op,
            path: f.path,
            what: `systemd-networkd MAC: ${e.removed.join(', ')}`,
            action: { kind: 'write', content: e.text },
          });
      }
      const eni = [...(await filesIn(v, '/etc/network/interfaces.d', () => true))];
      const main = await regular(v, '/etc/network/interfaces');
      if (main) eni.unshift({ path: '/etc/network/interfaces', stat: main });
      out.push(...(await editFiles(v, op, eni, stripInterfaces, 'ifupdown hwaddress')));
      return out;
    },
  },
  {
    name: 'dhcp-leases',
    description: 'DHCP client leases removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const dir of [
        '/var/lib/dhcp',
        '/var/lib/dhclient',
        '/var/lib/NetworkManager',
        '/var/lib/dhcpcd',
        '/var/lib/dhcpcd5',
        '/var/lib/wicked',
      ]) {
        for (const e of await entries(v, dir, true)) {
          const name = e.path.slice(e.path.lastIndexOf('/') + 1);
          if (isReg(e.stat) && /lease|\.duid$/.test(name)) out.push(del('dhcp-leases', e.path, 'DHCP lease'));
        }
      }
      return out;
    },
  },
  {
    name: 'logfiles',
    description: 'logs under /var/log emptied (rotated logs and journals removed)',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      const all = await entries(v, '/var/log', true);
      const journals = new Set<string>();
      for (const e of all) {
        const m = /^\/var\/log\/journal\/([0-9a-f]{32})$/.exec(e.path);
        if (m && isDir(e.stat)) {
          journals.add(e.path);
          out.push(del('logfiles', e.path, 'journal of a machine-id'));
        }
      }
      for (const e of all) {
        if ([...journals].some((j) => e.path.startsWith(`${j}/`))) continue;
        if (!isReg(e.stat)) continue;
        const name = e.path.slice(e.path.lastIndexOf('/') + 1);
        if (/\.(gz|xz|bz2|zst|old|journal~?)$|\.\d+$|-\d{8}$/.test(name))
          out.push(del('logfiles', e.path, 'rotated log'));
        else if (e.stat.size > 0)
          out.push({ op: 'logfiles', path: e.path, what: `log (${e.stat.size} bytes)`, action: { kind: 'truncate' } });
      }
      return out;
    },
  },
  {
    name: 'shell-history',
    description: 'shell and tool histories of root and users removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const h of await homes(v)) {
        for (const e of await entries(v, h))
          if (!isDir(e.stat) && HISTORIES.has(e.path.slice(h.length + 1)))
            out.push(del('shell-history', e.path, 'history'));
      }
      return out;
    },
  },
  {
    name: 'passwords',
    description: 'root and user passwords locked in /etc/shadow',
    defaultOn: true,
    audited: true,
    async find(v) {
      const st = await regular(v, '/etc/shadow');
      if (!st) return [];
      const e = lockShadow((await v.read('/etc/shadow')).toString('utf8'));
      return e.removed.length
        ? [
            {
              op: 'passwords',
              path: '/etc/shadow',
              what: `usable password: ${e.removed.join(', ')}`,
              action: { kind: 'write', content: e.text },
            },
          ]
        : [];
    },
  },
  {
    name: 'authorized-keys',
    description: 'SSH authorized_keys of root and users removed (cloud-init installs the instance key pair)',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const h of await homes(v)) {
        for (const e of await entries(v, `${h}/.ssh`)) {
          if (!isDir(e.stat) && /^authorized_keys2?$/.test(e.path.slice(h.length + 6)))
            out.push(del('authorized-keys', e.path, 'authorized_keys'));
        }
      }
      return out;
    },
  },
  {
    name: 'cloud-init',
    description:
      'cloud-init state (/var/lib/cloud except seed) and its per-instance network files removed, so it runs again',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const e of await entries(v, '/var/lib/cloud'))
        if (e.path !== '/var/lib/cloud/seed') out.push(del('cloud-init', e.path, 'cloud-init state'));
      for (const p of CLOUD_INIT_NET)
        if (await v.lstat(p)) out.push(del('cloud-init', p, 'network config cloud-init wrote for an instance'));
      return out;
    },
  },
  {
    name: 'tmp-files',
    description: 'contents of /tmp and /var/tmp removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const d of ['/tmp', '/var/tmp'])
        for (const e of await entries(v, d)) out.push(del('tmp-files', e.path, 'temporary file'));
      return out;
    },
  },
  {
    name: 'random-seed',
    description: 'saved random seeds removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const p of ['/var/lib/systemd/random-seed', '/var/lib/urandom/random-seed', '/var/lib/random-seed'])
        if (await regular(v, p)) out.push(del('random-seed', p, 'random seed'));
      return out;
    },
  },
  {
    name: 'package-caches',
    description: 'downloaded packages and package manager caches removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const e of await entries(v, '/var/cache/apt/archives', true))
        if (isReg(e.stat) && e.path.endsWith('.deb')) out.push(del('package-caches', e.path, 'cached package'));
      for (const e of await filesIn(v, '/var/cache/apt', (n) => n.endsWith('.bin')))
        out.push(del('package-caches', e.path, 'apt cache'));
      for (const d of ['/var/cache/dnf', '/var/cache/yum', '/var/cache/zypp/packages'])
        for (const e of await entries(v, d)) out.push(del('package-caches', e.path, 'package cache'));
      return out;
    },
  },
  {
    name: 'tls-keys',
    description: 'host TLS private keys (and the self-signed certificates made with them) removed',
    defaultOn: true,
    audited: true,
    async find(v) {
      const out: Finding[] = [];
      for (const d of ['/etc/ssl/private', '/etc/pki/tls/private']) {
        for (const e of await entries(v, d, true))
          if (isReg(e.stat) || isLink(e.stat)) out.push(del('tls-keys', e.path, 'TLS private key'));
      }
      for (const p of ['/etc/ssl/certs/ssl-cert-snakeoil.pem', '/etc/pki/tls/certs/localhost.crt'])
        if (await regular(v, p)) out.push(del('tls-keys', p, 'self-signed host certificate'));
      return out;
    },
  },
  {
    name: 'unconfigured',
    description: 'create /.unconfigured so a reconfiguration runs at first boot (opt-in)',
    defaultOn: false,
    audited: false,
    async find(v) {
      return (await v.lstat('/.unconfigured'))
        ? []
        : [
            {
              op: 'unconfigured',
              path: '/.unconfigured',
              what: 'first-boot reconfiguration marker',
              action: { kind: 'touch' },
            },
          ];
    },
  },
];

export const OP_NAMES: readonly string[] = IDENTITY_OPS.map((o) => o.name);

/** The operations chosen by `--skip` and `--with` (unknown names are an error). */
export function selectOps(opts: { skip?: string[]; with?: string[] } = {}): IdentityOp[] {
  for (const n of [...(opts.skip ?? []), ...(opts.with ?? [])]) {
    if (!OP_NAMES.includes(n))
      throw new ImagingError('bad-input', `unknown operation "${n}" (known: ${OP_NAMES.join(', ')})`);
  }
  const skip = new Set(opts.skip ?? []);
  const extra = new Set(opts.with ?? []);
  return IDENTITY_OPS.filter((o) => !skip.has(o.name) && (o.defaultOn || extra.has(o.name)));
}
