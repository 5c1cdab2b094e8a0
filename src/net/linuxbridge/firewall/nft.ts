// Runs nft batches: `nft -f -` with the batch on stdin (an argument array, no shell), one kernel transaction each.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';

/** Applies one nft batch atomically, or rejects with nft's message and changes nothing. */
export type NftRunner = (batch: string) => Promise<void>;

/**
 * Bridged frames reach the inet (IPv4/IPv6) hooks, where conntrack works, only with these sysctls on: the nft
 * bridge family has no conntrack in this kernel (CONFIG_NF_CONNTRACK_BRIDGE off), so stateful security groups
 * live in the inet forward hook. The settings are host-wide: every bridge's IP traffic then passes the inet and
 * iptables hooks (as on any Neutron Linux bridge host).
 */
const BRIDGE_NETFILTER_SYSCTLS = [
  '/proc/sys/net/bridge/bridge-nf-call-iptables',
  '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
];

async function enableBridgeNetfilter(): Promise<void> {
  for (const path of BRIDGE_NETFILTER_SYSCTLS) {
    let current: string;
    try {
      current = (await readFile(path, 'utf8')).trim();
    } catch {
      throw new Error(
        `${path} is missing: the kernel has no bridge netfilter (br_netfilter), so security groups cannot be stateful`,
      );
    }
    if (current !== '1') await writeFile(path, '1\n');
  }
}

function runNft(batch: string, binary: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    child.on('error', (e) => reject(new Error(`nft could not run: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(new Error(`nft refused the batch (exit ${code}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`));
    });
    child.stdin!.on('error', () => {}); // nft may exit before reading everything; the exit code tells.
    child.stdin!.end(batch);
  });
}

/** The real executor: turns on bridge netfilter once, then runs each batch through `nft -f -`. */
export function nftCommand(binary = 'nft'): NftRunner {
  let ready: Promise<void> | null = null;
  return async (batch) => {
    ready ??= enableBridgeNetfilter().catch((e) => {
      ready = null;
      throw e;
    });
    await ready;
    await runNft(batch, binary);
  };
}
