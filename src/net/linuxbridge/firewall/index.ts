// Security groups and anti-spoofing with nftables for the Linux bridge data plane: the public surface.
import { NftFirewall } from './nft-firewall.js';
import { nftCommand } from './nft.js';

export type { Firewall, SgPort, SgRule } from './types.js';
export type { NftRunner } from './nft.js';

/**
 * A firewall kept in the nft tables `bridge <table>` and `inet <table>`. `run` replaces the nft executor
 * (tests); by default batches go to `nft -f -` after bridged traffic is handed to the inet hooks.
 */
export function createNftFirewall(opts: {
  table: string;
  log?: (msg: string) => void;
  run?: import('./nft.js').NftRunner;
}): NftFirewall {
  return new NftFirewall(opts.table, opts.run ?? nftCommand(), opts.log ?? (() => {}));
}
