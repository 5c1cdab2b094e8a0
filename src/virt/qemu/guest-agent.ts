// A qemu-guest-agent client: one short connection per question over the virtio-serial channel's host socket.
import { connect } from 'node:net';

/** What the guest agent told us about the guest. */
export interface GuestAgentFacts {
  hostname?: string;
  os?: string;
  /** Addresses per interface, loopback left out. */
  interfaces: { name: string; mac?: string; ips: string[] }[];
}

/**
 * Runs commands against the agent. The agent has no greeting and no ids: `guest-sync-delimited` with a random
 * number first flushes stale bytes (a 0xFF marks where the fresh answer starts), then each command gets one reply
 * line. Rejects after timeoutMs when no agent answers (none installed, or still booting).
 */
export function guestAgentCall(
  socketPath: string,
  commands: { execute: string; arguments?: Record<string, unknown> }[],
  timeoutMs = 2000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    const token = Math.floor(Math.random() * 2 ** 31);
    const results: unknown[] = [];
    let synced = false;
    let buf = Buffer.alloc(0);
    const done = (e: Error | null) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(results);
    };
    const timer = setTimeout(() => done(new Error('guest agent did not answer')), timeoutMs);
    s.on('error', (e) => done(e));
    s.on('connect', () =>
      s.write(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id: token } })}\n`),
    );
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!synced) {
        const ff = buf.lastIndexOf(0xff);
        if (ff >= 0) buf = buf.subarray(ff + 1);
      }
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) >= 0) {
        const line = buf.subarray(0, nl).toString('utf8').trim();
        buf = buf.subarray(nl + 1);
        if (!line) continue;
        let msg: { return?: unknown; error?: { desc?: string } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (!synced) {
          if (msg.return === token) {
            synced = true;
            for (const c of commands) s.write(`${JSON.stringify(c)}\n`);
            if (commands.length === 0) return done(null);
          }
          continue;
        }
        if (msg.error) return done(new Error(`guest agent: ${msg.error.desc ?? 'error'}`));
        results.push(msg.return);
        if (results.length === commands.length) return done(null);
      }
    });
  });
}

/** Asks the agent for host name, OS and addresses; null when no agent answers. */
export async function guestAgentFacts(socketPath: string, timeoutMs = 2000): Promise<GuestAgentFacts | null> {
  try {
    const [host, ifaces, os] = await guestAgentCall(
      socketPath,
      [
        { execute: 'guest-get-host-name' },
        { execute: 'guest-network-get-interfaces' },
        { execute: 'guest-get-osinfo' },
      ],
      timeoutMs,
    );
    const list =
      (ifaces as
        | { name: string; 'hardware-address'?: string; 'ip-addresses'?: { 'ip-address': string }[] }[]
        | undefined) ?? [];
    const osInfo = os as { 'pretty-name'?: string; name?: string } | undefined;
    return {
      hostname: (host as { 'host-name'?: string } | undefined)?.['host-name'],
      os: osInfo?.['pretty-name'] ?? osInfo?.name,
      interfaces: list
        .filter((i) => i.name !== 'lo')
        .map((i) => ({
          name: i.name,
          mac: i['hardware-address'],
          ips: (i['ip-addresses'] ?? []).map((a) => a['ip-address']),
        })),
    };
  } catch {
    return null;
  }
}

/** Freezes guest file systems for a consistent snapshot; returns false when there is no agent. */
export async function guestAgentFreeze(socketPath: string): Promise<boolean> {
  try {
    await guestAgentCall(socketPath, [{ execute: 'guest-fsfreeze-freeze' }], 10_000);
    return true;
  } catch {
    return false;
  }
}

/** Thaws what guestAgentFreeze froze. */
export async function guestAgentThaw(socketPath: string): Promise<void> {
  // Nothing more can be done from here when the agent does not answer; the snapshot itself is good and is kept.
  await guestAgentCall(socketPath, [{ execute: 'guest-fsfreeze-thaw' }], 10_000).catch(() => {});
}
