// Observability end to end on real QEMU guests (root, TCG) on the Linux bridge data plane: two tiny guests whose
// user-data writes to their disk and pings their router in a loop; Debian's Prometheus scrapes the cloud's /metrics
// every second with the generated bearer token file; its HTTP API shows the instances' disk and NIC counters rising
// and the control-plane request counter equal to the requests this test made; the 2.48 diagnostics show CPU time and
// NIC counters that grow. The cloud runs in this process (the same controller `gureum up` builds), listening on a
// loopback port Prometheus scrapes. Prometheus, the guests, their bridges and namespaces go away also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { defaults } from '../../src/config.js';
import type { LinuxBridgeDriver } from '../../src/net/index.js';
import { createTestCloud } from '../helpers/cloud.js';
import { hostLock } from '../helpers/host-lock.js';
import { requireCommands, requireOrSkip, requireRoot } from '../helpers/requirements.js';
import { freePort } from '../helpers/server.js';
import { V, consoleOf, killLeftovers, waitStatus } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');
const N = '/network/v2.0';

/** Polls `check` until it returns a value (not undefined) or the deadline passes (then the last reason fails). */
async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test('prometheus scrapes /metrics: guests counters rise, request counter matches; diagnostics grow', {
  timeout: 900_000,
}, async (t) => {
  if (!requireRoot(t, 'needs root (bridges, taps, namespaces)')) return;
  if (!requireCommands(t, ['ip', 'nft', 'dnsmasq', 'qemu-system-x86_64', 'busybox', 'prometheus'])) return;
  const unlock = await hostLock('nft-firewall');
  const c = await createTestCloud({
    config: {
      virt: { driver: 'qemu', accel: 'tcg' },
      net: { ...defaults.net, dataPlane: 'linuxbridge', hostGateway: false },
      observability: { ...defaults.observability, sampleIntervalSeconds: 1 },
    },
  });
  const driver = c.controller.deps.network.events.driver as LinuxBridgeDriver;
  const work = mkdtempSync(join(tmpdir(), 'gureum-prom-e2e-'));
  let prom: ChildProcess | null = null;
  t.after(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGKILL');
      await new Promise((r) => prom?.once('exit', r));
    }
    killLeftovers(c.config.dataDir);
    await driver.destroyAll().catch(() => {});
    await c.close();
    rmSync(work, { recursive: true, force: true });
    unlock();
  });
  const reg = await registerTinyImage(c.controller.deps.image, {
    adminProjectId: c.controller.bootstrap.adminProjectId,
    cacheDir: CACHE,
  });
  if (reg.status === 'skipped') {
    requireOrSkip(t, false, `the tiny image cannot be built here: ${reg.reason}`);
    return;
  }
  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  const port = (c.controller.server.server.address() as AddressInfo).port;
  c.controller.deps.metadata.setControllerUrl(`http://127.0.0.1:${port}`);
  const tok = { token: c.adminToken };

  const priv = (await c.request('GET', `${N}/networks?name=private`, tok)).json.networks[0];
  const gateway = (await c.request('GET', `${N}/subnets?network_id=${priv.id}`, tok)).json.subnets[0]
    .gateway_ip as string;
  // Traffic only to the router's address on the private network (a namespace Gureum made) and the guest's own disk.
  const userData = `#!/bin/sh
( while true; do
    dd if=/dev/zero of=/root/load bs=64k count=8 conv=fsync 2>/dev/null
    ping -c 3 -W 1 ${gateway} >/dev/null 2>&1
    sleep 1
  done ) >/dev/null 2>&1 &
`;
  const boot = async (name: string): Promise<string> => {
    const r = await c.request('POST', `${V}/servers`, {
      ...tok,
      body: {
        server: {
          name,
          imageRef: reg.imageId,
          flavorRef: '42',
          config_drive: true,
          user_data: Buffer.from(userData).toString('base64'),
          networks: [{ uuid: priv.id }],
        },
      },
    });
    assert.equal(r.status, 202, r.text);
    return r.json.server.id as string;
  };
  const ids = [await boot('prom1'), await boot('prom2')];
  for (const id of ids) {
    await waitStatus(c, id, 'ACTIVE', 300_000);
    await eventually(`${id}'s user-data`, 300_000, async () =>
      /running user-data/.test(await consoleOf(c, id)) ? true : undefined,
    );
  }

  // Prometheus on a free loopback port, scraping every second with the token file Gureum wrote.
  const promPort = await freePort();
  const cfg = join(work, 'prometheus.yml');
  writeFileSync(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: gureum',
      '    metrics_path: /metrics',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${join(c.config.dataDir, 'metrics-token')}`,
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
      '',
    ].join('\n'),
  );
  prom = spawn(
    'prometheus',
    [`--config.file=${cfg}`, `--storage.tsdb.path=${join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prom.stderr?.on('data', (d) => {
    promLog = (promLog + String(d)).slice(-4000);
  });
  const query = async (q: string): Promise<number | undefined> => {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const v = body.data?.result?.[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  };
  await eventually('prometheus to scrape gureum', 120_000, async () =>
    (await query('up{job="gureum"}')) === 1 ? true : undefined,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\nprometheus said:\n${promLog}`);
  });

  // The control-plane counter: exactly the requests this test makes to one route.
  const flavorRoute = '/compute/v2.1/flavors/:id';
  for (let i = 0; i < 5; i++) assert.equal((await c.request('GET', `${V}/flavors/42`, tok)).status, 200);
  await eventually('the request counter in prometheus', 60_000, async () =>
    (await query(`gureum_http_requests_total{route="${flavorRoute}",method="GET",status="200"}`)) === 5
      ? true
      : undefined,
  );

  // Each guest's disk writes and NIC packets rise between two scrapes.
  for (const id of ids) {
    const sel = `instance_id="${id}"`;
    const disk = `sum(gureum_instance_disk_write_bytes_total{${sel}})`;
    const tx = `sum(gureum_instance_network_transmit_packets_total{${sel}})`;
    const rx = `sum(gureum_instance_network_receive_packets_total{${sel}})`;
    const first = await eventually(`${id}'s counters in prometheus`, 60_000, async () => {
      const v = [await query(disk), await query(tx), await query(rx)];
      return v.every((x) => x !== undefined) ? (v as number[]) : undefined;
    });
    await eventually(`${id}'s counters to rise`, 120_000, async () => {
      const v = [await query(disk), await query(tx), await query(rx)];
      return v.every((x, i) => x !== undefined && x > first[i]!) ? true : undefined;
    });
    assert.ok(((await query(`gureum_instance_cpu_seconds_total{${sel}}`)) ?? 0) > 0);
  }

  // Diagnostics (2.48): CPU time and NIC counters from the same driver, growing with the guest's traffic.
  const diag = async () =>
    (
      await c.request('GET', `${V}/servers/${ids[0]}/diagnostics`, {
        ...tok,
        headers: { 'X-OpenStack-Nova-API-Version': '2.48' },
      })
    ).json;
  const d1 = await diag();
  assert.equal(d1.state, 'running');
  assert.ok(d1.cpu_details[0].time > 0, JSON.stringify(d1.cpu_details));
  assert.ok(d1.nic_details[0].tx_packets > 0, JSON.stringify(d1.nic_details));
  assert.ok(d1.disk_details[0].read_bytes > 0, JSON.stringify(d1.disk_details));
  await eventually('diagnostics counters to grow', 60_000, async () => {
    const d2 = await diag();
    return d2.nic_details[0].rx_packets > d1.nic_details[0].rx_packets &&
      d2.disk_details[0].write_bytes > d1.disk_details[0].write_bytes
      ? true
      : undefined;
  });

  // The built-in store has sampled them too (collector every second in this test).
  const g = await c.request('GET', `/monitoring/v1/servers/${ids[0]}?metric=net`, tok);
  assert.equal(g.status, 200, g.text);
  assert.ok(
    g.json.series.net_tx_packets_per_sec.some((p: [number, number | null]) => (p[1] ?? 0) > 0),
    JSON.stringify(g.json.series.net_tx_packets_per_sec.slice(-3)),
  );
});
