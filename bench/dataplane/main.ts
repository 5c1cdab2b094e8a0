// bench/dataplane: the Linux bridge data plane, as root. Each part prints its own table.
import { firewallBench } from './firewall.js';
import { wiringBench } from './wiring.js';

await wiringBench();
console.log('');
await firewallBench();
