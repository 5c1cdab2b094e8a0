// The tiny guest's own files: early /init, busybox init's inittab, the boot script that configures the guest
// from a config drive or the metadata service, the udhcpc hook, a JSON flattener in awk, account files.
// All are busybox sh/awk; the boot script prints "gureum-tiny: ..." lines on the console (ttyS0) and on the screen
// (tty1, what the VNC console shows), where a login prompt follows.

/** The console line that says the guest configured itself; tests and the QEMU driver wait for it. */
export const FINISHED_MARK = 'gureum-tiny: finished';

/** The login user besides root (like CirrOS's `cirros`); both get the instance's SSH keys. */
export const TINY_USER = 'gureum';

/** Label of the tiny image's root disk (ext4): holds what must survive reboots and snapshots. */
export const ROOT_LABEL = 'gureum-root';

const INIT = `#!/bin/sh
# gureum-tiny early init (PID 1): kernel filesystems, then busybox init takes over as PID 1.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs -o mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620 devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
exec /sbin/init
`;

const INITTAB = `# busybox init: boot script once, login prompts on the serial console and the screen (the VNC console's first
# virtual terminal), clean shutdown on poweroff/reboot.
::sysinit:/etc/gureum/boot
ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100
tty1::respawn:/sbin/getty 38400 tty1 linux
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/gureum/shutdown
`;

/** The boot script: modules, root disk, network, datasource, host name, keys, SSH, user-data, finished. */
const BOOT = `#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
exec </dev/null >/dev/console 2>&1
up() { cut -d' ' -f1 /proc/uptime; }
# Each line to the serial console (the console log) and to the screen (tty1: the VNC console), which has no VGA
# text console to write to on machines without a display (then the second write just fails, quietly).
say() { m="gureum-tiny: [$(up)] $*"; echo "$m"; echo "$m" >/dev/tty1 2>/dev/null; }
STATE=/run/gureum
mkdir -p $STATE /var/log /var/run /mnt/config /mnt/disk
say "booting (kernel $(uname -r))"

# Kernel modules, in dependency order (computed when the image was built).
while read -r m; do insmod "/lib/modules/$m.ko" 2>/dev/null; done < /etc/gureum/modules
hostname gureum-tiny
ip link set lo up
syslogd -C64 2>/dev/null
acpid 2>/dev/null

# ext4 superblock: magic 0xEF53 at byte 1080, label at 1144 (16 bytes).
ext4_label() {
  [ "$(dd if="$1" bs=1 skip=1080 count=2 2>/dev/null | hexdump -v -e '2/1 "%02x"')" = "53ef" ] || return 1
  dd if="$1" bs=1 skip=1144 count=16 2>/dev/null | tr -d '\\000'
}
# ISO 9660 primary volume descriptor at 32768: "CD001" at 32769, volume id at 32808 (32 bytes).
iso_label() {
  [ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = "CD001" ] || return 1
  dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | tr -d '\\000' | sed 's/ *$//'
}
block_devices() { for b in /sys/block/*; do [ -e "$b/device" ] && echo "/dev/\${b##*/}"; done; }

# Persistent state on the root disk (label ${ROOT_LABEL}): /root, /home, SSH host keys, the last instance id.
DISK=""
for dev in $(block_devices); do
  if [ "$(ext4_label "$dev")" = "${ROOT_LABEL}" ]; then DISK=$dev; break; fi
done
if [ -n "$DISK" ] && mount -t ext4 -o rw,noatime "$DISK" /mnt/disk; then
  for d in root home dropbear; do mkdir -p /mnt/disk/$d; done
  chmod 700 /mnt/disk/root
  mount -o bind /mnt/disk/root /root
  mount -o bind /mnt/disk/home /home
  mount -o bind /mnt/disk/dropbear /etc/dropbear
  say "root disk $DISK mounted"
else
  DISK=""
  say "no root disk (label ${ROOT_LABEL}): state lives in memory"
fi

# Network: DHCP on the first NIC (option 121 routes via the hook).
NIC=""
for n in /sys/class/net/*; do
  [ -e "$n/device" ] || continue
  NIC=\${n##*/}; break
done
if [ -n "$NIC" ]; then
  ip link set "$NIC" up
  udhcpc -i "$NIC" -s /etc/gureum/udhcpc -O staticroutes -t 10 -T 1 -A 5 -b -S -p /run/udhcpc.pid -x hostname:gureum-tiny
  IP=$(ip -4 -o addr show dev "$NIC" | awk '{print $4}' | head -n1)
  say "network $NIC \${IP:-without an address}"
else
  say "no network interface found"
fi

# Datasource: a config drive (ISO 9660 labelled config-2) when attached, else the metadata service.
DS=""
MD=$STATE/md
mkdir -p $MD
for dev in $(block_devices); do
  case "$(iso_label "$dev" | tr 'A-Z' 'a-z')" in
    config-2)
      if mount -t iso9660 -o ro "$dev" /mnt/config; then
        cp /mnt/config/openstack/latest/meta_data.json $MD/ 2>/dev/null
        cp /mnt/config/openstack/latest/user_data $MD/ 2>/dev/null
        umount /mnt/config
        [ -s $MD/meta_data.json ] && DS="config-drive $dev"
      fi;;
  esac
  [ -n "$DS" ] && break
done
fetch() { rm -f "$2"; timeout 10 wget -q -O "$2" "http://169.254.169.254/$1" 2>/dev/null || { rm -f "$2"; return 1; }; }
if [ -z "$DS" ] && [ -n "$IP" ]; then
  i=0
  while [ $i -lt 60 ]; do
    if fetch openstack/latest/meta_data.json $MD/meta_data.json; then DS="metadata service"; break; fi
    i=$((i + 1)); usleep 500000
  done
  [ -n "$DS" ] && fetch openstack/latest/user_data $MD/user_data
fi
jget() { awk -v want="$1" -f /usr/share/gureum/json.awk $MD/meta_data.json; }

if [ -n "$DS" ]; then
  IID=$(jget uuid)
  FQDN=$(jget hostname)
  [ -n "$FQDN" ] || FQDN=$(jget name)
  HN=\${FQDN%%.*}
  say "datasource: $DS, instance $IID"
  if [ -n "$HN" ]; then
    hostname "$HN"
    echo "$HN" > /etc/hostname
    if [ "$FQDN" != "$HN" ]; then echo "127.0.1.1 $FQDN $HN" >> /etc/hosts; else echo "127.0.1.1 $HN" >> /etc/hosts; fi
  fi
  LAST=$(cat /mnt/disk/instance-id 2>/dev/null)
  NEW=1
  [ -n "$DISK" ] && [ "$LAST" = "$IID" ] && NEW=0
  if [ $NEW = 1 ] && [ -n "$DISK" ]; then rm -f /etc/dropbear/*_host_key; fi
  jget public_keys/ > $STATE/keys
  for home in /root /home/${TINY_USER}; do
    mkdir -p $home/.ssh
    if [ $NEW = 1 ]; then cp $STATE/keys $home/.ssh/authorized_keys
    else while read -r k; do grep -qxF "$k" $home/.ssh/authorized_keys 2>/dev/null || echo "$k" >> $home/.ssh/authorized_keys; done < $STATE/keys
    fi
    chmod 700 $home/.ssh; chmod 600 $home/.ssh/authorized_keys
  done
  chown -R 1000:1000 /home/${TINY_USER}
  say "$(grep -c . $STATE/keys) SSH key(s) installed for root and ${TINY_USER}"
else
  say "no datasource: no config drive and no answer from 169.254.169.254"
  NEW=0
fi

# SSH: an ed25519 host key now (fast), other types on demand; key logins only.
[ -s /etc/dropbear/dropbear_ed25519_host_key ] || dropbearkey -t ed25519 -f /etc/dropbear/dropbear_ed25519_host_key >/dev/null 2>&1
dropbear -R -s -p 22 -P /run/dropbear.pid
echo "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key 2>/dev/null | grep -i fingerprint
echo "-----END SSH HOST KEY FINGERPRINTS-----"

# User data: run once per instance when it is a script (every boot without a root disk to remember it).
if [ -s $MD/user_data ]; then
  if [ -z "$DISK" ] || [ $NEW = 1 ]; then
    if [ "$(head -c 2 $MD/user_data)" = "#!" ]; then
      cp $MD/user_data $STATE/user-data; chmod 700 $STATE/user-data
      say "running user-data"
      (cd /root && HOME=/root $STATE/user-data); say "user-data exited with $?"
    else
      say "user-data is not a script (no #!), ignored"
    fi
  fi
fi
[ -n "$DISK" ] && [ -n "$IID" ] && echo "$IID" > /mnt/disk/instance-id && sync
m="${FINISHED_MARK} at $(up)s: hostname=$(hostname) ip=\${IP:-none} datasource=\${DS:-none}"
echo "$m"; echo "$m" >/dev/tty1 2>/dev/null
`;

const SHUTDOWN = `#!/bin/sh
exec >/dev/console 2>&1
echo "gureum-tiny: shutting down"
[ -f /run/dropbear.pid ] && kill "$(cat /run/dropbear.pid)" 2>/dev/null
sync
for m in /etc/dropbear /home /root /mnt/disk; do umount "$m" 2>/dev/null; done
sync
`;

/** udhcpc hook: address, routes (option 121 when given, else the router), MTU, DNS. */
const UDHCPC = `#!/bin/sh
# udhcpc hook: $1 is deconfig, bound, renew, leasefail or nak; the lease arrives in the environment.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/"; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/\${mask:-24}" \${broadcast:+broadcast $broadcast} dev "$interface"
    fi
    if [ -n "$staticroutes" ]; then
      # RFC 3442: with classless static routes the router option is ignored.
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = "0.0.0.0" ]; then ip route replace "$1" dev "$interface"
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
      done
    else
      for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
`;

/**
 * Flattens a JSON document into "path value" lines and prints the values whose path equals \`want\` (or, when
 * \`want\` ends with "/", every value below it). Paths join object keys and array indexes with "/".
 */
const JSON_AWK = `BEGIN { RS = "\\001" }
{ S = S $0 }
END {
  L = length(S); P = 1
  val("")
}
function ws() { while (P <= L && index(" \\t\\r\\n", substr(S, P, 1)) > 0) P++ }
function hexval(h,   i, n) { n = 0; h = tolower(h); for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return n }
function str(   out, c, n) {
  P++; out = ""
  while (P <= L) {
    c = substr(S, P, 1)
    if (c == "\\"") { P++; return out }
    if (c == "\\\\") {
      P++; c = substr(S, P, 1)
      if (c == "n") out = out "\\n"
      else if (c == "t") out = out "\\t"
      else if (c == "r") out = out "\\r"
      else if (c == "b" || c == "f") out = out ""
      else if (c == "u") { n = hexval(substr(S, P + 1, 4)); P += 4; out = out (n < 128 && n > 0 ? sprintf("%c", n) : "?") }
      else out = out c
      P++
    } else { out = out c; P++ }
  }
  return out
}
function emit(path, v) {
  gsub(/\\n+$/, "", v); gsub(/\\n/, " ", v)
  if (path == want || (substr(want, length(want)) == "/" && index(path, want) == 1)) print v
}
function val(path,   c, k, i, lit) {
  ws(); c = substr(S, P, 1)
  if (c == "{") {
    P++; ws()
    if (substr(S, P, 1) == "}") { P++; return }
    while (P <= L) {
      ws(); k = str(); ws(); P++
      val(path == "" ? k : path "/" k)
      ws(); c = substr(S, P, 1); P++
      if (c != ",") return
    }
    return
  }
  if (c == "[") {
    P++; ws()
    if (substr(S, P, 1) == "]") { P++; return }
    for (i = 0; P <= L; i++) {
      val(path == "" ? i : path "/" i)
      ws(); c = substr(S, P, 1); P++
      if (c != ",") return
    }
    return
  }
  if (c == "\\"") { emit(path, str()); return }
  lit = substr(S, P)
  if (match(lit, /^[-+0-9.eEa-z]+/)) { emit(path, substr(lit, 1, RLENGTH)); P += RLENGTH } else P++
}
`;

const ACPI_POWER = `#!/bin/sh
# ACPI power button (QEMU system_powerdown): a clean poweroff through busybox init.
poweroff
`;

/** One file of the guest tree. */
export interface GuestFile {
  path: string;
  data: string;
  mode: number;
}

/** The guest's own files (paths relative to /). `modules` is the insmod order. */
export function guestFiles(modules: string[]): GuestFile[] {
  return [
    { path: 'init', data: INIT, mode: 0o755 },
    { path: 'etc/inittab', data: INITTAB, mode: 0o644 },
    { path: 'etc/gureum/boot', data: BOOT, mode: 0o755 },
    { path: 'etc/gureum/shutdown', data: SHUTDOWN, mode: 0o755 },
    { path: 'etc/gureum/udhcpc', data: UDHCPC, mode: 0o755 },
    { path: 'etc/gureum/modules', data: modules.map((m) => `${m}\n`).join(''), mode: 0o644 },
    { path: 'usr/share/gureum/json.awk', data: JSON_AWK, mode: 0o644 },
    { path: 'etc/acpi/PWRF/00000080', data: ACPI_POWER, mode: 0o755 },
    {
      path: 'etc/passwd',
      data: `root:x:0:0:root:/root:/bin/sh\n${TINY_USER}:x:1000:1000:Gureum tiny user:/home/${TINY_USER}:/bin/sh\n`,
      mode: 0o644,
    },
    // "*": no password works, key logins do (dropbear refuses only locked "!" accounts).
    { path: 'etc/shadow', data: `root:*:19000:0:99999:7:::\n${TINY_USER}:*:19000:0:99999:7:::\n`, mode: 0o600 },
    { path: 'etc/group', data: `root:x:0:\ntty:x:5:\n${TINY_USER}:x:1000:\n`, mode: 0o644 },
    { path: 'etc/shells', data: '/bin/sh\n/bin/ash\n', mode: 0o644 },
    { path: 'etc/hosts', data: '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n', mode: 0o644 },
    { path: 'etc/hostname', data: 'gureum-tiny\n', mode: 0o644 },
    { path: 'etc/nsswitch.conf', data: 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n', mode: 0o644 },
    {
      path: 'etc/profile',
      data: "export PATH=/sbin:/bin:/usr/sbin:/usr/bin\nexport PS1='\\u@\\h:\\w\\$ '\n",
      mode: 0o644,
    },
    // Shown by both gettys: no account has a password until user data sets one (SSH keys work from the start).
    {
      path: 'etc/issue',
      data:
        'Gureum tiny guest (Debian kernel, busybox, dropbear): log in with SSH as root or gureum.\n' +
        'To log in here, set a password with user data, e.g.  echo gureum:PASSWORD | chpasswd\n\n',
      mode: 0o644,
    },
    { path: 'etc/resolv.conf', data: '', mode: 0o644 },
  ];
}
