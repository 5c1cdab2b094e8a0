// The one declaration of the Debian packages Gureum needs, per purpose, and of the package that provides each
// command a test requires. scripts/prepare.mjs installs from PURPOSES; test/helpers/requirements.ts checks every
// required command against COMMANDS, and test/unit/helpers/packages.test.ts fails when a test requires a command
// whose package its purpose does not install.
//
// Plain JavaScript with no imports: prepare.mjs loads it before node_modules exists.
// Keep one line per entry so helpers adding packages on parallel branches merge cleanly.

/** Debian packages per purpose; `extends` pulls in another purpose's list. */
export const PURPOSES = {
  // qemu-system-x86: real guests; e2fsprogs: the tiny image's root disk (its other parts are downloaded, not
  // installed). novnc: the browser side of the remote console (served from /usr/share/novnc under /console/).
  // iproute2, nftables, dnsmasq-base, iputils-arping: the Linux bridge data plane (bridges, taps, namespaces, NAT,
  // DHCP, gratuitous ARP for floating IPs; security groups with `nft -f -`).
  // python3-openstackclient: the cloud's main client; the README's next command after `npm start` is `openstack`.
  start: {
    packages: [
      'qemu-utils',
      'qemu-system-x86',
      'e2fsprogs',
      'novnc',
      'iproute2',
      'nftables',
      'dnsmasq-base',
      'iputils-arping',
      'python3-openstackclient',
    ],
  },
  // iperf3: TCP throughput through a bridge with and without security groups (bench/dataplane).
  bench: { extends: 'start', packages: ['iperf3'] },
  // bench/versus only (`npm run bench -- versus`, never start/test): Debian's Keystone and Glance code, run under the
  // bench's own uWSGI (the keystone/glance-api service packages would start system services); sqlite3 for their
  // databases.
  versus: { extends: 'bench', packages: ['python3-keystone', 'python3-glance', 'uwsgi-plugin-python3', 'sqlite3'] },
  // The image factory (gureum image): libguestfs needs a host kernel for its appliance (linux-image-cloud-amd64).
  imaging: {
    extends: 'start',
    packages: ['libguestfs-tools', 'linux-image-cloud-amd64', 'debootstrap', 'fdisk', 'extlinux'],
  },
  // busybox-static: the tiny guest's scripts checked with the guest's own shell and awk; cpio and util-linux (blkid):
  // independent readers of the initramfs and ISO 9660 writers.
  // chromium: the dashboard's end-to-end tests drive Debian's browser through playwright-core (nothing downloaded).
  // openstack-dashboard (stock Horizon) and python3-openstacksdk: compatibility judges in test/compat.
  // prometheus: scrapes a real `gureum up`'s /metrics in test/e2e/observability-prometheus.test.ts.
  test: {
    extends: 'imaging',
    packages: [
      'python3-openstackclient',
      'tempest',
      'postgresql',
      'openssh-client',
      'busybox-static',
      'cpio',
      'util-linux',
      'chromium',
      'iputils-ping',
      'openstack-dashboard',
      'python3-openstacksdk',
      'prometheus',
    ],
  },
  tempest: { extends: 'test', packages: [] },
};

/**
 * The Debian package that provides each command a test may require (through requireCommands in
 * test/helpers/requirements.ts). A command missing here is a test bug: the helper throws.
 */
export const COMMANDS = {
  'qemu-img': 'qemu-utils',
  'qemu-system-x86_64': 'qemu-system-x86',
  mke2fs: 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  guestfish: 'libguestfs-tools',
  'virt-customize': 'libguestfs-tools',
  debootstrap: 'debootstrap',
  sfdisk: 'fdisk',
  extlinux: 'extlinux',
  openstack: 'python3-openstackclient',
  tempest: 'tempest',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  busybox: 'busybox-static',
  cpio: 'cpio',
  blkid: 'util-linux',
  chromium: 'chromium',
  nft: 'nftables',
  ping: 'iputils-ping',
  ip: 'iproute2',
  bridge: 'iproute2',
  dnsmasq: 'dnsmasq-base',
  arping: 'iputils-arping',
  prometheus: 'prometheus',
};

/** Every package `purpose` needs, its `extends` chain included. Throws on an unknown purpose. */
export function packagesFor(purpose) {
  const entry = PURPOSES[purpose];
  if (!entry) throw new Error(`unknown purpose "${purpose}" (one of ${Object.keys(PURPOSES).join(', ')})`);
  const inherited = entry.extends ? packagesFor(entry.extends) : [];
  return [...new Set([...inherited, ...entry.packages])];
}
