// bench/dataplane: the Linux bridge data plane, as root. Each part prints its own table.
import { firewallBench } from './firewall.js';

await firewallBench();
