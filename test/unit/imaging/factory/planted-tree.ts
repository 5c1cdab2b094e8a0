// A small directory tree that looks like a Debian root and carries one of every kind of per-instance identity
// the sealing operations know. Used by the unit tests (through DirView) and the libguestfs integration tests.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const MACHINE_ID = '0123456789abcdef0123456789abcdef';

/** Files that must survive sealing unchanged. */
export const KEPT = [
  '/etc/ssh/sshd_config',
  '/etc/udev/rules.d/99-keep.rules',
  '/var/lib/cloud/seed/nocloud/meta-data',
  '/etc/os-release',
];

/** Writes the tree under `root`. */
export function plantTree(root: string): void {
  const w = (p: string, content: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content, { mode });
  };
  const ln = (target: string, p: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    symlinkSync(target, join(root, p));
  };
  // Enough of a Debian root for libguestfs inspection.
  w(
    '/etc/os-release',
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  );
  w(
    '/usr/lib/os-release',
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  );
  w('/etc/debian_version', '12.7\n');
  w('/etc/fstab', 'LABEL=gureum-root / ext4 defaults 0 1\n');
  w('/bin/sh', '#!/bin/false\n', 0o755);
  w(
    '/etc/passwd',
    'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\ndebian:x:1000:1000::/home/debian:/bin/bash\n',
  );
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  // hostname
  w('/etc/hostname', 'golden-builder\n');
  w('/etc/hosts', '127.0.0.1 localhost\n127.0.1.1 golden-builder\n::1 localhost ip6-localhost\n');
  // ssh host keys
  for (const t of ['rsa', 'ed25519']) {
    w(`/etc/ssh/ssh_host_${t}_key`, `-----BEGIN OPENSSH PRIVATE KEY-----\nplanted-${t}\n`, 0o600);
    w(`/etc/ssh/ssh_host_${t}_key.pub`, `ssh-${t} AAAAplanted root@golden-builder\n`);
  }
  w('/etc/ssh/sshd_config', 'PasswordAuthentication no\n');
  // machine-id (and the D-Bus copy, and systemd's credential secret)
  w('/etc/machine-id', `${MACHINE_ID}\n`, 0o444);
  w('/var/lib/dbus/machine-id', `${MACHINE_ID}\n`);
  w('/var/lib/systemd/credential.secret', 'secret', 0o400);
  // udev persistent net rules
  w('/etc/udev/rules.d/70-persistent-net.rules', 'SUBSYSTEM=="net", ATTR{address}=="52:54:00:12:34:56", NAME="eth0"\n');
  w('/etc/udev/rules.d/75-persistent-net-generator.rules', '# generator\n');
  w('/etc/udev/rules.d/99-keep.rules', '# not about NICs\n');
  // MACs and UUIDs in network configuration
  w(
    '/etc/sysconfig/network-scripts/ifcfg-eth0',
    'DEVICE=eth0\nHWADDR=52:54:00:12:34:56\nUUID=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03\nMACADDR=52:54:00:12:34:57\nBOOTPROTO=dhcp\n',
  );
  w(
    '/etc/netplan/01-static.yaml',
    [
      'network:',
      '  version: 2',
      '  ethernets:',
      '    nic0:',
      '      match:',
      '        macaddress: "52:54:00:12:34:56"',
      '      set-name: eth0',
      '      dhcp4: true',
      '',
    ].join('\n'),
  );
  w(
    '/etc/NetworkManager/system-connections/wired.nmconnection',
    '[connection]\nid=wired\ntype=ethernet\n[ethernet]\nmac-address=52:54:00:12:34:56\n',
    0o600,
  );
  w('/etc/systemd/network/10-eth.link', '[Match]\nMACAddress=52:54:00:12:34:56\n\n[Link]\nName=eth0\n');
  w('/etc/systemd/network/20-eth.network', '[Match]\nMACAddress=52:54:00:12:34:56\nName=eth0\n\n[Network]\nDHCP=yes\n');
  w(
    '/etc/network/interfaces',
    'auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n  hwaddress ether 52:54:00:12:34:56\n',
  );
  // DHCP leases
  w('/var/lib/dhcp/dhclient.eth0.leases', 'lease { fixed-address 10.0.0.5; }\n');
  // logs
  w('/var/log/syslog', 'Nov 22 golden-builder kernel: booted\n');
  w('/var/log/auth.log.1', 'old\n');
  w('/var/log/dpkg.log.2.gz', 'gz');
  w('/var/log/empty.log', '');
  w(`/var/log/journal/${MACHINE_ID}/system.journal`, 'journal');
  // shell histories
  w('/root/.bash_history', 'passwd\n', 0o600);
  w('/home/debian/.bash_history', 'ls\n', 0o600);
  w('/home/debian/.python_history', 'print(1)\n', 0o600);
  // passwords
  w(
    '/etc/shadow',
    'root:$6$salt$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\ndebian:$y$j9T$salt$hash:19000:0:99999:7:::\nnobody:!:19000::::::\n',
    0o640,
  );
  // authorized_keys
  w('/root/.ssh/authorized_keys', 'ssh-ed25519 AAAAplanted admin@laptop\n', 0o600);
  w('/home/debian/.ssh/authorized_keys', 'ssh-ed25519 AAAAplanted admin@laptop\n', 0o600);
  // cloud-init state
  w('/var/lib/cloud/instances/i-0001/obj.pkl', 'pickle');
  ln('/var/lib/cloud/instances/i-0001', '/var/lib/cloud/instance');
  w('/var/lib/cloud/data/instance-id', 'i-0001\n');
  w('/var/lib/cloud/seed/nocloud/meta-data', 'instance-id: seed\n');
  w('/etc/network/interfaces.d/50-cloud-init', 'auto eth0\niface eth0 inet dhcp\n');
  // temporary files
  w('/tmp/build.log', 'x');
  w('/var/tmp/cache/x', 'x');
  // random seed
  w('/var/lib/systemd/random-seed', 'seedseedseed', 0o600);
  // package caches
  w('/var/cache/apt/archives/nginx_1.22_amd64.deb', 'deb');
  w('/var/cache/apt/pkgcache.bin', 'bin');
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  // host TLS keys
  w('/etc/ssl/private/ssl-cert-snakeoil.key', 'KEY', 0o600);
  w('/etc/ssl/certs/ssl-cert-snakeoil.pem', 'CERT');
}
