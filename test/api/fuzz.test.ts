// A seeded, bounded fuzz of every service's create/update/action and list endpoints (taken from the route walk), on
// the fake driver: wrong types, nulls, nesting beyond the limit, huge numbers, prototype keys, unicode, bad ids, bad
// headers (content types, microversion headers, tokens). Whatever arrives, the answer is never a 5xx and the server
// keeps serving. The seed is random per run unless GUREUM_FUZZ_SEED is set; it is printed first and named in every
// failure, so a failure replays with GUREUM_FUZZ_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../helpers/cloud.js';
import { declaredRoutes, type RouteDeclaration } from '../../src/api/http/route-policy.js';
import { walkRoutes } from '../helpers/route-walk.js';
import { createProject, createUser } from './identity/fixtures.js';
import { makeImage, waitFor, V } from './compute/helpers.js';

const REQUESTS = 3000;
const PARALLEL = 16;

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  'name',
  'description',
  'id',
  'size',
  'imageRef',
  'flavorRef',
  'networks',
  'network_id',
  'subnet_id',
  'cidr',
  'ip_version',
  'metadata',
  'tags',
  'visibility',
  'enabled',
  'domain_id',
  'project_id',
  'user_id',
  'password',
  'fixed_ips',
  'port_id',
  'security_groups',
  'admin_state_up',
  'external_gateway_info',
  'floating_network_id',
  'volume_id',
  'volume_type',
  'ram',
  'vcpus',
  'disk',
  'min_disk',
  'min_ram',
  'disk_format',
  'container_format',
  'key_name',
  'block_device_mapping_v2',
  'availability_zone',
  'min_count',
  'max_count',
  'user_data',
  'allowed_address_pairs',
  'routes',
  'policies',
  'rules',
  'quota_set',
  'limit',
  'marker',
  'status',
  'type',
  'blob',
  'roles',
  'expires_at',
  'trustee_user_id',
  'direction',
  'protocol',
  'port_range_min',
];
const QUERY_KEYS = [
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'name',
  'status',
  'all_tenants',
  'all_projects',
  'fields',
  'changes-since',
  'changes-before',
  'offset',
  'page_size',
  'project_id',
  'tenant_id',
  'user_id',
  'enabled',
  'tags',
  'not-tags',
  'visibility',
  'member_status',
  'owner',
  'size_min',
  'is_public',
  'minDisk',
  'minRam',
  'detailed',
  'with_count',
  'deleted',
  'ip_address',
  'device_id',
  'network_id',
  'router:external',
  'shared',
  'host',
  'hypervisor_hostname',
  'start',
  'end',
  'type',
  '__proto__',
  'constructor',
  'sort_key[]',
  'a.b',
  '',
];
const STRINGS = [
  '',
  ' ',
  'x',
  'null',
  'true',
  '0',
  '-1',
  '1e999',
  '99999999999999999999999',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '한국어 이름',
  '🦄🚀',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '$' + '{jndi:x}',
  'a'.repeat(300),
  'a'.repeat(70_000),
  '10.0.0.0/33',
  '::1',
  'fe80::/10',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ACTIVE',
  'public',
];
const NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53), 1.5, -0.0001, 1e308, 65536, 4096];
const CONTENT_TYPES = [
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/openstack-images-v2.1-json-patch',
  'application/xml',
  '*/*',
  '',
];
const VERSIONS = [
  'compute 2.999',
  'compute latest',
  'compute abc',
  'compute 2.',
  'volume 3.999',
  'volume 3.0',
  'x',
  '',
  'compute 2.1 , volume 3.70',
  'compute 99999999999999999999.1',
  'compute -2.5',
];

test('fuzz: thousands of malformed requests, never a 5xx, and the server stays healthy', async () => {
  const seed = process.env.GUREUM_FUZZ_SEED
    ? Number(process.env.GUREUM_FUZZ_SEED)
    : Math.floor(Math.random() * 2 ** 31);
  console.log(`fuzz seed: ${seed} (replay with GUREUM_FUZZ_SEED=${seed})`);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const started = Date.now();
  const cloud: TestCloud = await createTestCloud();
  try {
    // A few real objects, so well-formed ids reach the services' deeper paths.
    const p = await createProject(cloud);
    const member = await createUser(cloud, p.id, p.name, ['member']);
    const image = await makeImage(cloud);
    const net = (
      await cloud.request('POST', '/network/v2.0/networks', { token: member.token, body: { network: { name: 'fz' } } })
    ).json.network.id as string;
    await cloud.request('POST', '/network/v2.0/subnets', {
      token: member.token,
      body: { subnet: { network_id: net, cidr: '10.95.0.0/24', ip_version: 4 } },
    });
    const srv = await cloud.request('POST', `${V}/servers`, {
      token: member.token,
      body: { server: { name: 'fz', imageRef: image, flavorRef: '42', networks: [{ uuid: net }] } },
    });
    assert.equal(srv.status, 202, srv.text);
    await waitFor(cloud, member.token, srv.json.server.id, 'ACTIVE');
    const vol = await cloud.request('POST', `/volume/v3/${p.id}/volumes`, {
      token: member.token,
      body: { volume: { size: 1 } },
    });
    const goodIds = [srv.json.server.id, net, image, vol.json?.volume?.id ?? net, p.id, member.id, '42', 'default'];
    const tokens = [cloud.adminToken, cloud.adminToken, member.token];

    // Hosts' power actions answer Nova's 501 (the driver lacks them) by design; everything else is in.
    const routes = walkRoutes(declaredRoutes(cloud.controller.server)).filter(
      (r: RouteDeclaration) =>
        (['POST', 'PUT', 'PATCH'].includes(r.method) || (r.method === 'GET' && !/\/:\w+$/.test(r.url))) &&
        r.url !== '/healthz' &&
        !/\/os-hosts\/:host\/(reboot|shutdown|startup)$/.test(r.url) &&
        !r.url.startsWith('/metadata-internal'),
    );

    const value = (depth: number): unknown => {
      const k = rnd();
      if (k < 0.18) return pick(STRINGS);
      if (k < 0.3) return pick(NUMBERS);
      if (k < 0.38) return null;
      if (k < 0.44) return chance(0.5);
      if (k < 0.47) return pick(goodIds);
      if (depth > 3) return pick(STRINGS);
      if (k < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [pick(FIELDS), value(depth + 1)]));
    };
    /** A raw JSON body: mostly a plausible envelope with bad values, sometimes something worse. */
    const body = (route: RouteDeclaration): string => {
      const envelope = (
        route.url
          .split('/')
          .filter((s) => s && !s.startsWith(':'))
          .pop() ?? 'x'
      )
        .replace(/ies$/, 'y')
        .replace(/s$/, '')
        .replace(/-/g, '_');
      const k = rnd();
      if (k < 0.06) return `${'['.repeat(5000)}${']'.repeat(5000)}`;
      if (k < 0.1) return `{"${envelope}": ${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`;
      if (k < 0.14) return `{"${envelope}": {"__proto__": {"admin": true}, "name": "x"}}`;
      if (k < 0.17) return `{"constructor": {"prototype": {"x": 1}}}`;
      if (k < 0.2) return `{"${envelope}": {"size": 99999999999999999999999, "ram": 1e400, "name": "x"}}`;
      if (k < 0.23) return '{"a": ';
      if (k < 0.26) return `{"${envelope}": ${JSON.stringify(pick(STRINGS))}}`;
      if (k < 0.3) return JSON.stringify(value(0));
      if (k < 0.34 && route.url.endsWith('/action')) {
        const actions = typeof route.policy === 'object' ? Object.keys(route.policy.byAction) : ['x'];
        return JSON.stringify({ [pick(actions)]: value(1) });
      }
      return JSON.stringify({ [envelope]: value(1) });
    };
    const fillUrl = (url: string) =>
      url.replace(/:(\w+)/g, () =>
        encodeURIComponent(chance(0.7) ? pick(goodIds) : String(pick(STRINGS)).slice(0, 300)),
      );
    const query = () => {
      if (chance(0.3)) return '';
      const parts = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
        const v = chance(0.5)
          ? String(pick(NUMBERS))
          : chance(0.3)
            ? '99999999999999999999999'
            : pick(STRINGS).slice(0, 500);
        return `${encodeURIComponent(pick(QUERY_KEYS))}=${encodeURIComponent(v)}`;
      });
      return `?${parts.join('&')}`;
    };

    const failures: string[] = [];
    const counts = new Map<number, number>();
    const one = async (i: number) => {
      const route = pick(routes);
      const url = fillUrl(route.url) + (route.method === 'GET' || chance(0.2) ? query() : '');
      const headers: Record<string, string> = {};
      const tk = rnd();
      headers['x-auth-token'] = tk < 0.03 ? 'x'.repeat(16_384) : tk < 0.06 ? 'not-a-token' : pick(tokens);
      if (chance(0.15)) headers['openstack-api-version'] = pick(VERSIONS);
      if (chance(0.1)) headers['x-openstack-nova-api-version'] = pick(VERSIONS).replace(/^\w+ /, '');
      const writes = route.method !== 'GET';
      if (writes) headers['content-type'] = chance(0.8) ? 'application/json' : pick(CONTENT_TYPES);
      const payload = writes ? body(route) : undefined;
      const res = await cloud.controller.server.inject({
        method: route.method as 'GET',
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
      });
      counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) {
        failures.push(
          `seed ${seed} #${i}: ${route.method} ${url.slice(0, 200)} [${headers['content-type'] ?? ''}] ` +
            `${String(payload ?? '').slice(0, 200)}` +
            ` -> ${res.statusCode} ${res.body.slice(0, 300)}`,
        );
      }
    };
    for (let i = 0; i < REQUESTS; i += PARALLEL) {
      await Promise.all(Array.from({ length: Math.min(PARALLEL, REQUESTS - i) }, (_, j) => one(i + j)));
    }
    const health = await cloud.controller.server.inject({ method: 'GET', url: '/healthz' });
    const statuses = [...counts]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(
      `fuzz: ${REQUESTS} requests over ${routes.length} routes in ${Date.now() - started} ms (seed ${seed}): ` +
        `${statuses}`,
    );
    assert.deepEqual(failures, [], `seed ${seed}: ${failures.length} answers were 5xx`);
    assert.equal(health.statusCode, 200, `seed ${seed}: /healthz after the fuzz`);
  } finally {
    await cloud.close();
  }
});
