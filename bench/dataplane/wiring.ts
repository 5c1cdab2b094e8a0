// bench/dataplane (wiring part), as root: the time the Linux bridge driver takes to wire one guest port (bridge
// check, the port's nft rules and anti-spoofing, its tap with the port's MAC, the DHCP host entry and dnsmasq's
// reload) when 1, 100 and 500 ports are already wired on the host. The driver is fed port events as the network
// service sends them; everything lives in its own network (random id), namespace, taps and nft table, removed at
// the end by the driver's destroyAll.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LinuxBridgeDriver, type NetEvent } from '../../src/net/index.js';
import { createNftFirewall } from '../../src/net/linuxbridge/firewall/index.js';
import { run } from '../../test/helpers/netlab.js';

/** One byte as two hex digits (a MAC address octet). */
const hexOctet = (b: number) => (b & 255).toString(16).padStart(2, '0');

const SAMPLE = Number(process.env.BENCH_WIRING_SAMPLE ?? 20);
const LEVELS = [1, 100, 500];
const HOST = 'bench-host';
const GROUP = randomUUID();

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

let seq = 0;
const event = (kind: NetEvent['kind'], object: Record<string, unknown>): NetEvent => ({
  kind,
  action: 'created',
  id: String(object.id),
  object,
  seq: ++seq,
});

/** The i-th guest port as the API shows it (10.77.0.0/21 holds them all). */
function guestPort(networkId: string, subnetId: string, i: number): Record<string, unknown> {
  const n = i + 10;
  return {
    id: randomUUID(),
    network_id: networkId,
    mac_address: `fa:16:3e:77:${hexOctet(n >> 8)}:${hexOctet(n)}`,
    fixed_ips: [{ subnet_id: subnetId, ip_address: `10.77.${n >> 8}.${n & 255}` }],
    device_owner: 'compute:nova',
    device_id: randomUUID(),
    'binding:host_id': HOST,
    admin_state_up: true,
    name: '',
    dns_name: '',
    security_groups: [GROUP],
    allowed_address_pairs: [],
    port_security_enabled: true,
  };
}

/** Wires ports until each level is reached, timing SAMPLE more ports there; prints one table. */
export async function wiringBench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('bench/dataplane wiring: skipped (needs root)');
    return;
  }
  for (const cmd of ['nft', 'dnsmasq', 'ip']) {
    if ((await run('which', [cmd])).code !== 0) {
      console.log(`bench/dataplane wiring: skipped (no ${cmd})`);
      return;
    }
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'gureum-bench-wiring-'));
  const tag = randomBytes(4).toString('hex');
  const driver = new LinuxBridgeDriver({
    stateDir,
    tag,
    host: HOST,
    firewall: createNftFirewall({ table: `gureum_w${tag}` }),
    hostGateway: false,
    log: () => {},
  });
  const statuses = new Map<string, string>();
  driver.onPortStatus(async (r) => {
    statuses.set(r.portId, r.status);
  });
  const networkId = randomUUID();
  const subnetId = randomUUID();
  const rows: string[] = [];
  try {
    await driver.resync({ networks: [], subnets: [], ports: [], routers: [], floatingips: [], security_groups: [] });
    await driver.apply(event('network', { id: networkId, mtu: 1500, 'provider:network_type': 'local' }));
    await driver.apply(
      event('subnet', {
        id: subnetId,
        network_id: networkId,
        cidr: '10.77.0.0/21',
        ip_version: 4,
        gateway_ip: '10.77.0.1',
        enable_dhcp: true,
      }),
    );
    await driver.apply(
      event('port', {
        id: randomUUID(),
        network_id: networkId,
        mac_address: 'fa:16:3e:77:00:02',
        fixed_ips: [{ subnet_id: subnetId, ip_address: '10.77.0.2' }],
        device_owner: 'network:dhcp',
        device_id: `dhcp-${networkId}`,
        admin_state_up: true,
        security_groups: [],
      }),
    );
    await driver.apply(
      event('security_group', {
        id: GROUP,
        security_group_rules: [
          { id: randomUUID(), direction: 'egress', ethertype: 'IPv4' },
          { id: randomUUID(), direction: 'ingress', ethertype: 'IPv4', remote_group_id: GROUP },
          {
            id: randomUUID(),
            direction: 'ingress',
            ethertype: 'IPv4',
            protocol: 'tcp',
            port_range_min: 22,
            port_range_max: 22,
            remote_ip_prefix: '0.0.0.0/0',
          },
        ],
      }),
    );
    let wired = 0;
    for (const level of LEVELS) {
      // Fill up to level - 1 ports untimed, then time SAMPLE ports wired on top of that.
      while (wired < level - 1) await driver.apply(event('port', guestPort(networkId, subnetId, wired++)));
      const times: number[] = [];
      for (let k = 0; k < SAMPLE; k++) {
        const p = guestPort(networkId, subnetId, wired++);
        const t0 = performance.now();
        await driver.apply(event('port', p));
        times.push(performance.now() - t0);
        if (statuses.get(String(p.id)) !== 'ACTIVE')
          throw new Error(`port ${String(p.id)} was not wired (${statuses.get(String(p.id)) ?? 'no report'})`);
      }
      rows.push(`| ${level} | ${pct(times, 50).toFixed(1)} | ${pct(times, 99).toFixed(1)} |`);
    }
  } finally {
    await driver.destroyAll().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
    rmSync(stateDir, { recursive: true, force: true });
  }
  console.log(
    `Wiring one guest port (nft rules, tap, DHCP entry + dnsmasq reload), ${SAMPLE} ports timed per level (ms):`,
  );
  console.log('| ports already on the host | p50 | p99 |');
  console.log('|---:|---:|---:|');
  for (const r of rows) console.log(r);
}
