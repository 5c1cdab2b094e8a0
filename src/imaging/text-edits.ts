// Pure text edits the sealing operations make to configuration files (unit-tested without any disk image).
// Each returns the new text and what it removed; "nothing removed" means the file holds no identity.

/** The result of one edit: the new text and a short note per change (empty when nothing changed). */
export interface Edit {
  text: string;
  removed: string[];
}

const lines = (text: string) => text.split('\n');

/** Drops lines matching `re`; notes are the trimmed lines. */
function dropLines(text: string, re: RegExp): Edit {
  const kept: string[] = [];
  const removed: string[] = [];
  for (const l of lines(text)) {
    if (re.test(l)) removed.push(l.trim());
    else kept.push(l);
  }
  return { text: kept.join('\n'), removed };
}

/** ifcfg-*: HWADDR=, MACADDR= and UUID= lines. */
export function stripIfcfg(text: string): Edit {
  return dropLines(text, /^\s*(HWADDR|MACADDR|UUID)\s*=/);
}

/** NetworkManager keyfiles: MAC address keys. */
export function stripNmConnection(text: string): Edit {
  return dropLines(text, /^\s*(mac-address|cloned-mac-address|permanent-mac-address)\s*=/);
}

/** /etc/network/interfaces: `hwaddress` stanzas lines. */
export function stripInterfaces(text: string): Edit {
  return dropLines(text, /^\s*hwaddress\s/);
}

/** /etc/sysconfig/network: HOSTNAME= lines. */
export function stripSysconfigHostname(text: string): Edit {
  return dropLines(text, /^\s*HOSTNAME\s*=/);
}

/** /etc/hosts: the 127.0.1.1 line Debian writes for the machine's own name. */
export function stripHostsSelf(text: string): Edit {
  return dropLines(text, /^\s*127\.0\.1\.1\s/);
}

/**
 * systemd-networkd .network/.link/.netdev files: MACAddress= and PermanentMACAddress= lines. `emptyMatch`
 * tells whether a [Match] section was left with nothing in it (a .link file like that would match every NIC).
 */
export function stripNetworkd(text: string): Edit & { emptyMatch: boolean } {
  const e = dropLines(text, /^\s*(MACAddress|PermanentMACAddress)\s*=/);
  let emptyMatch = false;
  if (e.removed.length) {
    const ls = lines(e.text);
    for (let i = 0; i < ls.length; i++) {
      if (!/^\s*\[Match\]\s*$/.test(ls[i]!)) continue;
      let j = i + 1;
      let content = false;
      for (; j < ls.length && !/^\s*\[/.test(ls[j]!); j++)
        if (ls[j]!.trim() && !/^\s*[#;]/.test(ls[j]!)) content = true;
      if (!content) emptyMatch = true;
    }
  }
  return { ...e, emptyMatch };
}

const indentOf = (l: string) => /^ */.exec(l)![0].length;
const keyOf = (l: string) => /^\s*-?\s*([A-Za-z0-9_-]+):/.exec(l)?.[1];

/**
 * netplan YAML: `macaddress:` keys. A `match:` mapping left empty is dropped with its device's `set-name:`
 * (netplan refuses set-name without match). Line-based, for the block style netplan and cloud-init write.
 */
export function stripNetplan(text: string): Edit {
  const ls = lines(text);
  const removed: string[] = [];
  let out: (string | null)[] = ls.map((l) => {
    if (keyOf(l) === 'macaddress' && !/^\s*#/.test(l)) {
      removed.push(l.trim());
      return null;
    }
    return l;
  });
  if (!removed.length) return { text, removed };
  // Drop `match:` lines with no deeper child left, and the sibling `set-name:` of such a block.
  const live = () => out.map((l, i) => ({ l, i })).filter((x): x is { l: string; i: number } => x.l !== null);
  for (const { l, i } of live()) {
    if (keyOf(l) !== 'match' || !/:\s*$/.test(l)) continue;
    const ind = indentOf(l);
    const rest = live().filter((x) => x.i > i && x.l.trim() && !/^\s*#/.test(x.l));
    const next = rest[0];
    if (next && indentOf(next.l) > ind) continue;
    out[i] = null;
    removed.push('match: (empty)');
    // The sibling set-name at the same indentation within the same parent block.
    for (let j = i - 1; j >= 0 && (out[j] === null || !out[j]!.trim() || indentOf(out[j]!) >= ind); j--) {
      if (out[j] && indentOf(out[j]!) === ind && keyOf(out[j]!) === 'set-name') {
        removed.push(out[j]!.trim());
        out[j] = null;
      }
    }
    for (let j = i + 1; j < out.length && (out[j] === null || !out[j]!.trim() || indentOf(out[j]!) >= ind); j++) {
      if (out[j] && indentOf(out[j]!) === ind && keyOf(out[j]!) === 'set-name') {
        removed.push(out[j]!.trim());
        out[j] = null;
      }
    }
  }
  out = out.filter((l) => l !== null);
  return { text: out.join('\n'), removed };
}

/** /etc/shadow: every usable password (a hash or an empty field) gets a leading `!`; returns the users locked. */
export function lockShadow(text: string): Edit {
  const removed: string[] = [];
  const out = lines(text).map((l) => {
    const f = l.split(':');
    if (f.length < 2 || !f[0]) return l;
    const pw = f[1]!;
    if (pw.startsWith('!') || pw.startsWith('*')) return l;
    removed.push(f[0]);
    f[1] = `!${pw}`;
    return f.join(':');
  });
  return { text: out.join('\n'), removed };
}

/** A host name that identifies nobody (what a sealed image carries until cloud-init sets the instance's). */
export function isGenericHostname(text: string): boolean {
  const h = text.trim();
  return h === '' || h === 'localhost' || h === 'localhost.localdomain';
}

/** True when a machine-id file's content identifies a machine (systemd writes "uninitialized" for first boot). */
export function isMachineIdSet(text: string): boolean {
  const t = text.trim();
  return t !== '' && t !== 'uninitialized';
}
