// What a guest shows outside itself: the serial console log (read from its tail, kept under a bound) and the facts
// a server's details show (SSH forward, user-network address, guest agent answers).
import { readdirSync } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { USER_NET } from './guest-build.js';
import { guestAgentFacts } from './guest-agent.js';
import type { InstanceFiles, InstanceState } from './instance-files.js';

/** Facts the compute API shows in a server's details. */
export interface GuestDetails {
  [key: string]: string;
}

/** The entries of a folder, none when it does not exist (no instance yet). */
export function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    // Missing (nothing made yet) or unreadable: no entries to look at.
    return [];
  }
}

/** The last `max` bytes of a console log ('' before the guest wrote any). */
export async function consoleTail(path: string, max: number): Promise<string> {
  const st = await stat(path).catch(() => null);
  if (!st) return '';
  const fh = await open(path, 'r');
  try {
    const len = Math.min(st.size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, st.size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Keeps each console log under its bound: the newest half is kept (QEMU appends, so truncation is safe). */
export async function boundConsoleLogs(files: InstanceFiles, max: number): Promise<void> {
  for (const id of readdirSafe(files.root)) {
    const path = files.paths(id).console;
    const st = await stat(path).catch(() => null);
    if (!st || st.size <= max) continue;
    const keep = Math.floor(max / 2);
    const fh = await open(path, 'r');
    const buf = Buffer.alloc(keep);
    try {
      await fh.read(buf, 0, keep, st.size - keep);
    } finally {
      await fh.close();
    }
    await truncate(path, 0);
    const w = await open(path, 'a');
    try {
      await w.write(buf);
    } finally {
      await w.close();
    }
  }
}

/** What the server's details show: SSH forward, guest address in user networking, guest agent facts when it runs. */
export async function guestDetails(st: InstanceState, qgaSocket: string, running: boolean): Promise<GuestDetails> {
  const out: GuestDetails = {};
  if (st.sshPort) out.ssh = `127.0.0.1:${st.sshPort}`;
  if (st.guestAddress) {
    out.guest_network =
      `QEMU user networking ${USER_NET.net}: the guest holds ${st.guestAddress}, not its Neutron ` + `fixed IP`;
  }
  if (st.guestAgent && running) {
    const f = await guestAgentFacts(qgaSocket, 500);
    if (f) {
      if (f.hostname) out.guest_hostname = f.hostname;
      if (f.os) out.guest_os = f.os;
      const ips = f.interfaces.flatMap((i) => i.ips);
      if (ips.length) out.guest_ips = ips.join(',');
    }
  }
  return out;
}
