// bench/dataplane (firewall part), as root: (1) time to apply a rule change to a group of 1,000 rules whose rules
// name a remote group of 5 vs 5,000 members, and a membership change; (2) TCP throughput (iperf3, Debian's) between
// two namespaces through a bridge with that rule set vs with no firewall at all, as a ratio in one run.
// Everything happens in the bench's own bridge, namespaces and nft tables (random names), removed at the end.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  createNftFirewall,
  type Firewall,
  type SgPort,
  type SgRule,
} from '../../src/net/linuxbridge/firewall/index.js';
import { NetLab, run } from '../../test/helpers/netlab.js';

const REPS = Number(process.env.BENCH_REPS ?? 20);
const SECONDS = Number(process.env.BENCH_IPERF_SECONDS ?? 5);
const GROUP = 'b0000000-0000-4000-8000-000000000001';
const REMOTE = 'b0000000-0000-4000-8000-000000000002';

function memberPort(i: number, groups: string[]): SgPort {
  const octet = (shift: number) => ((i >> shift) & 255).toString(16).padStart(2, '0');
  const mac = `fa:16:3e:${octet(16)}:${octet(8)}:${octet(0)}`;
  return {
    id: `bench-port-${i}`,
    tap: `tapb${i}`,
    bridge: 'brqbench',
    mac,
    fixedIps: [`10.${100 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}`],
    allowedAddressPairs: [],
    securityGroups: groups,
    portSecurity: true,
    deviceOwner: 'compute:nova',
  };
}

/** 1,000 rules: 999 TCP ports from the remote group, then what the probe needs last (the worst case for a new flow). */
function thousandRules(variant: number): SgRule[] {
  const rules: SgRule[] = [
    {
      id: 'egress-any',
      security_group_id: GROUP,
      direction: 'egress',
      ethertype: 'IPv4',
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_group_id: null,
    },
  ];
  for (let i = 0; rules.length < 999; i++) {
    rules.push({
      id: `r${i}`,
      security_group_id: GROUP,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 10_000 + i + variant,
      port_range_max: 10_000 + i + variant,
      remote_ip_prefix: null,
      remote_group_id: REMOTE,
    });
  }
  rules.push({
    id: 'last',
    security_group_id: GROUP,
    direction: 'ingress',
    ethertype: 'IPv4',
    protocol: 'tcp',
    port_range_min: 5201,
    port_range_max: 5201,
    remote_ip_prefix: null,
    remote_group_id: REMOTE,
  });
  return rules;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ms = (x: number): string => x.toFixed(1);

async function ruleChangeCosts(members: number): Promise<string> {
  const fw = createNftFirewall({ table: `gureum_b${randomBytes(3).toString('hex')}` });
  try {
    const guarded = memberPort(1, [GROUP, REMOTE]);
    const others = Array.from({ length: members - 1 }, (_, i) => memberPort(i + 2, [REMOTE]));
    const syncMs = await timed(() => fw.sync([guarded, ...others], thousandRules(0)));
    // A rule change as the API makes it: one rule created, then deleted (Neutron rules are immutable).
    const base = thousandRules(0);
    const extra: SgRule = { ...base[1]!, id: 'extra', port_range_min: 9000, port_range_max: 9000 };
    const change: number[] = [];
    for (let r = 1; r <= REPS; r++)
      change.push(await timed(() => fw.setGroupRules(GROUP, r % 2 ? [...base, extra] : base)));
    const join: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const p = memberPort(60_000 + r, [REMOTE]);
      join.push(await timed(() => fw.upsertPort(p)));
      await fw.removePort(p.id);
    }
    return (
      `| ${members.toLocaleString('en')} | ${ms(syncMs)} | ${ms(pct(change, 50))} | ${ms(pct(change, 99))} | ` +
      `${ms(pct(join, 50))} | ${ms(pct(join, 99))} |`
    );
  } finally {
    await fw.destroy();
  }
}

async function iperf(lab: NetLab, clientIdx: number, serverIp: string): Promise<number> {
  const r = await lab.exec(
    lab.hosts[clientIdx]!,
    ['iperf3', '-c', serverIp, '-t', String(SECONDS), '-J'],
    (SECONDS + 20) * 1000,
  );
  if (r.code !== 0) throw new Error(`iperf3 failed: ${r.stderr || r.stdout.slice(0, 500)}`);
  const bps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
    .bits_per_second;
  return bps / 1e9;
}

async function throughput(): Promise<string[]> {
  const lab = new NetLab();
  let fw: Firewall | null = null;
  try {
    await lab.up();
    const a = await lab.addHost('a', '10.99.0.1/24', 'fa:16:3e:99:00:01');
    const b = await lab.addHost('b', '10.99.0.2/24', 'fa:16:3e:99:00:02');
    lab.spawn(b, ['iperf3', '-s']);
    for (let i = 0; i < 50 && (await lab.exec(a, ['iperf3', '-c', b.ip, '-t', '1', '-J'], 10_000)).code !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const portOf = (h: typeof a, id: string): SgPort => ({
      id,
      tap: h.tap,
      bridge: lab.bridge,
      mac: h.mac,
      fixedIps: [h.ip],
      allowedAddressPairs: [],
      securityGroups: [GROUP, REMOTE],
      portSecurity: true,
      deviceOwner: 'compute:nova',
    });
    const members = Array.from({ length: 998 }, (_, i) => memberPort(i + 2, [REMOTE]));
    const fwTable = `gureum_b${lab.suffix}`;
    const none: number[] = [];
    const withRules: number[] = [];
    // Alternate, so load from others on the machine falls on both sides alike.
    for (let round = 0; round < 2; round++) {
      none.push(await iperf(lab, 0, b.ip));
      fw = createNftFirewall({ table: fwTable });
      await fw.sync([portOf(a, 'a'), portOf(b, 'b'), ...members], thousandRules(0));
      withRules.push(await iperf(lab, 0, b.ip));
      await fw.destroy();
      fw = null;
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    return [
      `TCP a → b through one bridge, iperf3 ${SECONDS} s × 2 rounds each, alternating:`,
      `  no firewall:                ${none.map((x) => x.toFixed(2)).join(', ')} Gbit/s`,
      `  1,000 rules, 1,000 members: ${withRules.map((x) => x.toFixed(2)).join(', ')} Gbit/s`,
      `  ratio: ${((100 * mean(withRules)) / mean(none)).toFixed(1)} %`,
    ];
  } finally {
    if (fw) await fw.destroy().catch(() => {});
    await lab.destroy();
  }
}

/** Runs the firewall benchmark and prints its tables; skips (exit 0) without root or nft/iperf3. */
export async function firewallBench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('bench/dataplane firewall: skipped (needs root)');
    return;
  }
  for (const cmd of ['nft', 'iperf3']) {
    if ((await run('which', [cmd])).code !== 0) {
      console.log(`bench/dataplane firewall: skipped (no ${cmd}; node scripts/prepare.mjs --for bench)`);
      return;
    }
  }
  console.log(`Rule change on a group of 1,000 rules naming a remote group (ms, ${REPS} reps each):`);
  console.log('| remote group members | first sync | rule change p50 | p99 | member joins p50 | p99 |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const members of [5, 5000]) console.log(await ruleChangeCosts(members));
  console.log('');
  for (const line of await throughput()) console.log(line);
}
