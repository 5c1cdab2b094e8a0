// `gureum net purge`: removes what this data dir's Linux bridge data plane left on the host after `gureum up`
// stopped (bridges, taps, qrouter-/qdhcp- namespaces, dnsmasq, metadata proxies, nft tables). `up` leaves them
// running on purpose, so guests keep their traffic across a restart; this is the explicit way to take them away.
import { existsSync } from 'node:fs';
import { loadConfig, type ConfigFlags } from '../config.js';
import { bridgeDriverFor } from '../app/index.js';
import { netStateDir } from '../net/index.js';

export async function netCommand(sub: string | undefined, flags: ConfigFlags): Promise<number> {
  if (sub !== 'purge') throw new Error('usage: gureum net purge [--data-dir DIR] [--config FILE]');
  const config = loadConfig(flags);
  if (!existsSync(netStateDir(config.dataDir))) {
    process.stdout.write(`no Linux bridge data plane ran from ${config.dataDir}: nothing to remove\n`);
    return 0;
  }
  if (process.getuid?.() !== 0)
    throw new Error('gureum net purge needs root (it removes bridges, namespaces and nft tables)');
  await bridgeDriverFor(config, (m) => process.stdout.write(`${m}\n`)).destroyAll();
  process.stdout.write(`removed the data plane of ${config.dataDir}\n`);
  return 0;
}
