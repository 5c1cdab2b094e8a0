// The generated policy matrix (issue 11): every route with a policy × six personas. The expected answer comes from the
// policy table itself: the route's declared rule (the action's rule for action routes), evaluated with the same
// `allowed` the server uses against the route's declared target (or the caller's own scope), plus the owner check the
// services make for objects of project A (another project's caller finds nothing: 404, or 403). The API must do exactly
// that: denied → 403 or 404 (and the database unchanged), allowed → neither 401 nor 403 (a 400, 404 or 409 for a
// fixture that does not fit is fine: the policy let it through). No answer may be a 5xx. One refinement: where the rule
// allows and only the owner check denies (another project's object), the service validates the body before it looks the
// object up, as Nova, Neutron and Cinder do (Cinder answers "Malformed request url", 400, for another project's URL),
// so a 400 is a denial there too; the unchanged database is what proves it.
//
// Personas: admin (admin project), member and reader of project A (which owns the fixtures), member and reader of
// project B, and a user with no role anywhere. Keystone gives such a user only an unscoped token (a domain-scoped one
// needs a role on the domain), so that persona is unscoped.
//
// Requests go in phases so that allowed writes cannot hide denied ones: every denied request first (the SQLite tables
// are dumped before and after and must be equal), then allowed reads, allowed writes, allowed deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestCloud, type TestCloud, type InjectResult } from '../helpers/cloud.js';
import {
  declaredRoutes,
  ownScope,
  ruleOf,
  type RouteConfig,
  type RouteDeclaration,
} from '../../src/api/http/route-policy.js';
import { allowed } from '../../src/services/policy.js';
import { isAdmin, type AuthContext } from '../../src/services/auth-context.js';
import { walkRoutes } from '../helpers/route-walk.js';
import { createProject, createUser, roleId, uniq, type TestUser } from './identity/fixtures.js';
import { makeImage, waitFor, V } from './compute/helpers.js';

interface Persona {
  name: string;
  token: string;
  auth: AuthContext;
}
interface Case {
  persona: Persona;
  route: RouteDeclaration;
  method: string;
  path: string;
  body?: unknown;
  payload?: Buffer;
  headers: Record<string, string>;
  expectAllowed: boolean;
  rule: string;
  deniedBy?: 'rule' | 'owner';
}

/** Placeholder ids: routes whose object this fixture set does not make; the request still runs (404 when allowed). */
const MISSING = '00000000-0000-4000-8000-00000000beef';

/** Routes filled with a placeholder, each with its reason (the printed list; kept in sync by the assertion below). */
const JUSTIFIED_PLACEHOLDERS: Record<string, string> = {
  ':project_id/messages/:id':
    'Cinder user messages appear only after an asynchronous failure; the fake driver never fails',
  'access_rules/:id':
    'an access rule exists only with an application credential made with rules; reads of a missing one still check ' +
    'the owner',
  'os-instance-actions/:rid':
    'request ids are per action; a missing one still goes through the rule and the owner check',
  'backups/:id':
    'backups landed on main minutes before this test was last run; a real backup fixture is left to do (the rule ' +
    'and owner check run first)',
  'port_forwardings/:pf':
    'port forwardings need an external subnet route on the fake network; the rule and owner check run first',
};

async function ok(res: InjectResult, what: string, status = [200, 201, 202, 204]): Promise<any> {
  assert.ok(status.includes(res.status), `${what}: ${res.status} ${res.text}`);
  return res.json;
}

/** Columns that change without a request: the compute agent's heartbeat. */
const HEARTBEAT: Record<string, string[]> = { compute_services: ['last_seen_at'] };

/** Tables that grow on every call by design: the audit trail records denied writes too (its own test checks them). */
const RECORDS_DENIALS = new Set(['audit_events']);

/** Everything in the database, table by table (compared around the denied phase), heartbeats left out. */
async function dump(cloud: TestCloud): Promise<Record<string, unknown[]>> {
  const db = cloud.controller.store.db;
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(
    db,
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.rows) {
    if (RECORDS_DENIALS.has(name)) continue;
    const rows = (await sql.raw(`select * from "${name}"`).execute(db)).rows as Record<string, unknown>[];
    out[name] = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !HEARTBEAT[name]?.includes(k))));
  }
  return out;
}

test('policy matrix: every route × six personas answers as the policy table says', async () => {
  const started = Date.now();
  const cloud = await createTestCloud();
  try {
    const req = (m: string, u: string, o: Parameters<TestCloud['request']>[2] = {}) =>
      cloud.request(m, u, { token: cloud.adminToken, ...o });
    const idn = cloud.controller.deps.identity;

    // ---- personas
    const A = await createProject(cloud, uniq('matrix-a'));
    const B = await createProject(cloud, uniq('matrix-b'));
    const memberA: TestUser = await createUser(cloud, A.id, A.name, ['member']);
    const readerA: TestUser = await createUser(cloud, A.id, A.name, ['reader']);
    const memberB: TestUser = await createUser(cloud, B.id, B.name, ['member']);
    const readerB: TestUser = await createUser(cloud, B.id, B.name, ['reader']);
    const loner = uniq('loner');
    const lonerUser = (
      await ok(
        await req('POST', '/identity/v3/users', { body: { user: { name: loner, password: `pw-${loner}` } } }),
        'loner',
      )
    ).user;
    const lonerTok = await req('POST', '/identity/v3/auth/tokens', {
      token: '',
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: lonerUser.id, password: `pw-${loner}` } } },
        },
      },
    });
    await ok(lonerTok, 'unscoped token');
    const personas: Persona[] = [];
    for (const [name, token] of [
      ['admin', cloud.adminToken],
      ['member-A', memberA.token],
      ['reader-A', readerA.token],
      ['member-B', memberB.token],
      ['reader-B', readerB.token],
      ['no-role', String(lonerTok.headers['x-subject-token'])],
    ] as const) {
      personas.push({ name, token, auth: await idn.tokens.validateForRequest(token) });
    }
    const asA = (m: string, u: string, body?: unknown) =>
      cloud.request(m, u, { token: memberA.token, ...(body !== undefined ? { body } : {}) });

    // ---- fixtures owned by project A (made by its member), and the admin's objects the admin routes need
    const bootImage = await makeImage(cloud);
    const imageA = (
      await ok(
        await asA('POST', '/image/v2/images', { name: 'img-a', disk_format: 'raw', container_format: 'bare' }),
        'image',
      )
    ).id;
    await ok(
      await cloud.request('PUT', `/image/v2/images/${imageA}/file`, {
        token: memberA.token,
        payload: Buffer.alloc(4096, 3),
        headers: { 'content-type': 'application/octet-stream' },
      }),
      'image data',
    );
    const net = (await ok(await asA('POST', '/network/v2.0/networks', { network: { name: 'net-a' } }), 'network'))
      .network.id;
    const subnet = (
      await ok(
        await asA('POST', '/network/v2.0/subnets', {
          subnet: { network_id: net, cidr: '10.93.0.0/24', ip_version: 4 },
        }),
        'subnet',
      )
    ).subnet.id;
    const port = (await ok(await asA('POST', '/network/v2.0/ports', { port: { network_id: net } }), 'port')).port.id;
    const router = (await ok(await asA('POST', '/network/v2.0/routers', { router: { name: 'r-a' } }), 'router')).router
      .id;
    const sg = (
      await ok(await asA('POST', '/network/v2.0/security-groups', { security_group: { name: 'sg-a' } }), 'sg')
    ).security_group.id;
    const sgRule = (
      await ok(
        await asA('POST', '/network/v2.0/security-group-rules', {
          security_group_rule: {
            security_group_id: sg,
            direction: 'ingress',
            protocol: 'tcp',
            port_range_min: 22,
            port_range_max: 22,
          },
        }),
        'sg rule',
      )
    ).security_group_rule.id;
    const subnetpool = (
      await ok(
        await asA('POST', '/network/v2.0/subnetpools', { subnetpool: { name: 'sp-a', prefixes: ['10.94.0.0/16'] } }),
        'subnetpool',
      )
    ).subnetpool.id;
    const publicNet = (await req('GET', '/network/v2.0/networks?router:external=true')).json.networks[0]?.id;
    const fipRes = publicNet
      ? await asA('POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: publicNet } })
      : undefined;
    const fip = fipRes?.status === 201 ? fipRes.json.floatingip.id : MISSING;
    const created = await ok(
      await asA('POST', `${V}/servers`, {
        server: {
          name: 'srv-a',
          imageRef: bootImage,
          flavorRef: '42',
          networks: [{ uuid: net }],
          metadata: { k: 'v' },
        },
      }),
      'server',
    );
    const server = created.server.id;
    await waitFor(cloud, memberA.token, server, 'ACTIVE');
    const serverPort = (await req('GET', `/network/v2.0/ports?device_id=${server}`)).json.ports[0]?.id ?? MISSING;
    await ok(await asA('POST', `${V}/os-keypairs`, { keypair: { name: 'kp-a' } }), 'keypair');
    const serverGroup = (
      await ok(
        await asA('POST', `${V}/os-server-groups`, { server_group: { name: 'g-a', policies: ['affinity'] } }),
        'server group',
      )
    ).server_group.id;
    const volume = (
      await ok(await asA('POST', `/volume/v3/${A.id}/volumes`, { volume: { size: 1, name: 'vol-a' } }), 'volume')
    ).volume.id;
    for (
      let i = 0;
      i < 200 && (await asA('GET', `/volume/v3/${A.id}/volumes/${volume}`)).json?.volume?.status !== 'available';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const snapshot = (
      await ok(
        await asA('POST', `/volume/v3/${A.id}/snapshots`, { snapshot: { volume_id: volume, name: 'snap-a' } }),
        'snapshot',
      )
    ).snapshot.id;
    // a second volume, offered for transfer (a transfer holds its volume)
    const volume2 = (
      await ok(await asA('POST', `/volume/v3/${A.id}/volumes`, { volume: { size: 1, name: 'vol-a2' } }), 'volume 2')
    ).volume.id;
    for (
      let i = 0;
      i < 200 && (await asA('GET', `/volume/v3/${A.id}/volumes/${volume2}`)).json?.volume?.status !== 'available';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const transfer = (
      await ok(
        await asA('POST', `/volume/v3/${A.id}/os-volume-transfer`, { transfer: { volume_id: volume2, name: 't-a' } }),
        'transfer',
      )
    ).transfer.id;
    const volumeType =
      (await req('GET', `/volume/v3/${cloud.controller.bootstrap.adminProjectId}/types`)).json.volume_types[0]?.id ??
      MISSING;
    const qosSpecs = (
      await ok(
        await req('POST', `/volume/v3/${cloud.controller.bootstrap.adminProjectId}/qos-specs`, {
          body: { qos_specs: { name: uniq('qos'), consumer: 'front-end', read_iops_sec: '100' } },
        }),
        'qos specs',
      )
    ).qos_specs.id;
    const aggregate = (
      await ok(await req('POST', `${V}/os-aggregates`, { body: { aggregate: { name: uniq('agg') } } }), 'aggregate')
    ).aggregate.id;
    const hypervisors = (await req('GET', `${V}/os-hypervisors`)).json.hypervisors;
    const hypervisor = String(hypervisors[0]?.id ?? MISSING);
    const host = String(hypervisors[0]?.hypervisor_hostname ?? 'nohost');
    const computeService = String((await req('GET', `${V}/os-services`)).json.services[0]?.id ?? MISSING);
    // The test cloud runs user networking, which runs no agents: one heartbeat written the way the bridge data plane
    // writes it gives the agent routes a DHCP agent and an L3 agent.
    await cloud.controller.deps.network.agents.report([
      { kind: 'dhcp', host: 'matrix-host', configurations: {} },
      { kind: 'l3', host: 'matrix-host', configurations: {} },
    ]);
    const agents = (await req('GET', '/network/v2.0/agents')).json.agents as { id: string; agent_type: string }[];
    const dhcpAgent = agents.find((a) => a.agent_type === 'DHCP agent')?.id ?? MISSING;
    const l3Agent = agents.find((a) => a.agent_type === 'L3 agent')?.id ?? MISSING;
    const meteringLabel = (
      await ok(
        await req('POST', '/network/v2.0/metering/metering-labels', {
          body: { metering_label: { name: uniq('meter') } },
        }),
        'metering label',
      )
    ).metering_label.id;
    const meteringRule = (
      await ok(
        await req('POST', '/network/v2.0/metering/metering-label-rules', {
          body: {
            metering_label_rule: {
              metering_label_id: meteringLabel,
              direction: 'ingress',
              remote_ip_prefix: '10.9.0.0/24',
            },
          },
        }),
        'metering label rule',
      )
    ).metering_label_rule.id;
    const namespace = uniq('ns');
    await ok(
      await req('POST', '/image/v2/metadefs/namespaces', { body: { namespace, visibility: 'public' } }),
      'namespace',
    );
    // identity objects; a disabled domain of its own for the domain routes (Keystone deletes only a disabled one)
    const domain = (
      await ok(
        await req('POST', '/identity/v3/domains', { body: { domain: { name: uniq('dom'), enabled: false } } }),
        'domain',
      )
    ).domain.id;
    const readerRole = await roleId(cloud, 'reader');
    const group = (
      await ok(await req('POST', '/identity/v3/groups', { body: { group: { name: uniq('grp') } } }), 'group')
    ).group.id;
    const prior = (
      await ok(await req('POST', '/identity/v3/roles', { body: { role: { name: uniq('prior') } } }), 'role')
    ).role.id;
    await ok(await req('PUT', `/identity/v3/roles/${prior}/implies/${readerRole}`), 'implied role');
    const region = (await req('GET', '/identity/v3/regions')).json.regions[0].id;
    const service = (await req('GET', '/identity/v3/services')).json.services[0].id;
    const endpoint = (await req('GET', '/identity/v3/endpoints')).json.endpoints[0].id;
    const credential = (
      await ok(
        await cloud.request('POST', '/identity/v3/credentials', {
          token: memberA.token,
          body: { credential: { user_id: memberA.id, type: 'cert', blob: 'x', project_id: A.id } },
        }),
        'credential',
      )
    ).credential.id;
    const ec2 = (
      await ok(
        await cloud.request('POST', `/identity/v3/users/${memberA.id}/credentials/OS-EC2`, {
          token: memberA.token,
          body: { tenant_id: A.id },
        }),
        'ec2',
      )
    ).credential.access;
    const trust = (
      await ok(
        await cloud.request('POST', '/identity/v3/OS-TRUST/trusts', {
          token: memberA.token,
          body: {
            trust: {
              trustor_user_id: memberA.id,
              trustee_user_id: readerA.id,
              project_id: A.id,
              impersonation: false,
              roles: [{ name: 'reader' }],
            },
          },
        }),
        'trust',
      )
    ).trust.id;
    const appCred = (
      await ok(
        await cloud.request('POST', `/identity/v3/users/${memberA.id}/application_credentials`, {
          token: memberA.token,
          body: { application_credential: { name: uniq('ac') } },
        }),
        'app cred',
      )
    ).application_credential.id;
    const regLimit = (
      await ok(
        await req('POST', '/identity/v3/registered_limits', {
          body: { registered_limits: [{ service_id: service, resource_name: uniq('res'), default_limit: 5 }] },
        }),
        'registered limit',
      )
    ).registered_limits[0];
    const limit = (
      await ok(
        await req('POST', '/identity/v3/limits', {
          body: {
            limits: [
              { service_id: service, project_id: A.id, resource_name: regLimit.resource_name, resource_limit: 3 },
            ],
          },
        }),
        'limit',
      )
    ).limits[0].id;
    const policyBlob = (
      await ok(
        await req('POST', '/identity/v3/policies', { body: { policy: { type: 'application/json', blob: '{}' } } }),
        'policy',
      )
    ).policy.id;
    const consumer = (
      await ok(
        await req('POST', '/identity/v3/OS-OAUTH1/consumers', { body: { consumer: { description: 'c' } } }),
        'consumer',
      )
    ).consumer.id;
    const endpointGroup = (
      await ok(
        await req('POST', '/identity/v3/OS-EP-FILTER/endpoint_groups', {
          body: { endpoint_group: { name: uniq('eg'), filters: { interface: 'public' } } },
        }),
        'endpoint group',
      )
    ).endpoint_group.id;

    /** Ids of objects project A owns: a default-target route naming one hides it from other projects. */
    const ownedByA = new Set([
      imageA,
      net,
      subnet,
      port,
      router,
      sg,
      sgRule,
      subnetpool,
      fip,
      server,
      serverGroup,
      volume,
      snapshot,
      serverPort,
      volume2,
      transfer,
      A.id,
    ]);

    // ---- path parameters, by route (first match wins)
    const placeholders = new Set<string>();
    const fill: [RegExp, string, string | (() => string)][] = [
      // identity
      [/^\/identity\/.*\/groups\/:actor/, ':actor', group],
      [/^\/identity\/.*\/users\/:actor/, ':actor', memberA.id],
      [/^\/identity\/.*\/projects\/:target/, ':target', A.id],
      [/^\/identity\/.*\/domains\/:target/, ':target', domain],
      [/^\/identity\/.*\/OS-TRUST\/trusts\/:trust_id\/roles\/:role_id/, ':role_id', readerRole],
      [/^\/identity\//, ':role_id', readerRole],
      [/^\/identity\//, ':user_id', memberA.id],
      [/^\/identity\//, ':project_id', A.id],
      [/^\/identity\//, ':domain_id', domain],
      [/^\/identity\//, ':group_id', group],
      [/^\/identity\//, ':prior_role_id', prior],
      [/^\/identity\//, ':implied_role_id', readerRole],
      [/^\/identity\//, ':region_id', region],
      [/^\/identity\//, ':service_id', service],
      [/^\/identity\//, ':endpoint_id', endpoint],
      [/^\/identity\//, ':credential_id', credential],
      [/^\/identity\//, ':trust_id', trust],
      [/^\/identity\//, ':registered_limit_id', regLimit.id],
      [/^\/identity\//, ':limit_id', limit],
      [/^\/identity\//, ':policy_id', policyBlob],
      [/^\/identity\//, ':consumer_id', consumer],
      [/^\/identity\//, ':endpoint_group_id', endpointGroup],
      [/^\/identity\/.*endpoint_groups\/:left/, ':left', endpointGroup],
      [/^\/identity\//, ':left', endpoint],
      [/^\/identity\//, ':group', 'ldap'],
      [/^\/identity\//, ':option', 'url'],
      [/^\/identity\//, ':tag', 'x'],
      [/^\/identity\//, ':access', ec2],
      [/application_credentials\/:id/, ':id', appCred],
      [
        /access_rules\/:id/,
        ':id',
        () => {
          placeholders.add('access_rules/:id');
          return MISSING;
        },
      ],
      // compute
      [
        /^\/compute\/v2\.1\/servers\/:id\/os-instance-actions\/:rid/,
        ':rid',
        () => {
          placeholders.add('os-instance-actions/:rid');
          return MISSING;
        },
      ],
      [/^\/compute\/v2\.1\/servers\/:id\/os-interface\/:pid/, ':pid', serverPort],
      [/^\/compute\/v2\.1\/servers\/:id/, ':id', server],
      [/^\/compute\/v2\.1\/servers/, ':vid', volume],
      [/^\/compute\/v2\.1\/servers/, ':net', 'net-a'],
      [/^\/compute\/v2\.1\/os-volumes\/:id/, ':id', volume],
      [/^\/compute\/v2\.1\/os-snapshots\/:id/, ':id', snapshot],
      [/^\/compute\/v2\.1\/flavors\/:id/, ':id', '42'],
      [/^\/compute\/v2\.1\/images\/:id/, ':id', imageA],
      [/^\/compute\/v2\.1\/os-aggregates/, ':id', aggregate],
      [/^\/compute\/v2\.1\/os-floating-ips/, ':id', fip],
      [/^\/compute\/v2\.1\/os-hypervisors\/:id/, ':id', hypervisor],
      [/^\/compute\/v2\.1\/os-hypervisors/, ':pattern', host],
      [/^\/compute\/v2\.1\/os-(tenant-)?networks/, ':id', net],
      [/^\/compute\/v2\.1\/os-security-group-rules/, ':id', sgRule],
      [/^\/compute\/v2\.1\/os-security-groups/, ':id', sg],
      [/^\/compute\/v2\.1\/os-server-groups/, ':id', serverGroup],
      [/^\/compute\/v2\.1\/os-services/, ':id', computeService],
      [/^\/compute\/v2\.1\/os-hosts/, ':host', host],
      [/^\/compute\/v2\.1\/os-keypairs/, ':name', 'kp-a'],
      [/^\/compute\/v2\.1\/os-quota-class-sets/, ':name', 'default'],
      [/^\/compute\/v2\.1\//, ':pid', A.id],
      [/^\/compute\/v2\.1\//, ':before', '2026-01-01'],
      [/^\/compute\/v2\.1\//, ':alias', 'os-keypairs'],
      // network
      [
        /^\/network\/v2\.0\/floatingips\/:id\/port_forwardings\/:pf/,
        ':pf',
        () => {
          placeholders.add('port_forwardings/:pf');
          return MISSING;
        },
      ],
      [/^\/network\/v2\.0\/agents\/:id\/l3-routers/, ':id', l3Agent],
      [/^\/network\/v2\.0\/agents/, ':id', dhcpAgent],
      [/^\/network\/v2\.0\/agents/, ':network_id', net],
      [/^\/network\/v2\.0\/agents/, ':router_id', router],
      [/^\/network\/v2\.0\/metering\/metering-labels/, ':id', meteringLabel],
      [/^\/network\/v2\.0\/metering\/metering-label-rules/, ':id', meteringRule],
      [/^\/network\/v2\.0\/floatingips/, ':id', fip],
      [/^\/network\/v2\.0\/network-ip-availabilities/, ':id', net],
      [/^\/network\/v2\.0\/networks/, ':id', net],
      [/^\/network\/v2\.0\/ports/, ':id', port],
      [/^\/network\/v2\.0\/quotas/, ':id', A.id],
      [/^\/network\/v2\.0\/routers/, ':id', router],
      [/^\/network\/v2\.0\/security-group-rules/, ':id', sgRule],
      [/^\/network\/v2\.0\/security-groups/, ':id', sg],
      [/^\/network\/v2\.0\/subnetpools/, ':id', subnetpool],
      [/^\/network\/v2\.0\/subnets/, ':id', subnet],
      [/^\/network\/v2\.0\//, ':alias', 'router'],
      // image
      [/^\/image\/v2\//, ':image_id', imageA],
      [/^\/image\/v2\//, ':member_id', B.id],
      [/^\/image\/v2\//, ':ns', namespace],
      [/^\/image\/v2\//, ':rt', 'OS::Nova::Server'],
      [/^\/image\/v2\/schemas/, ':name', 'namespace'],
      [/^\/image\/v2\//, ':name', 'thing'],
      // volume
      [
        /^\/volume\/v3\/:project_id\/messages\/:id/,
        ':id',
        () => {
          placeholders.add(':project_id/messages/:id');
          return MISSING;
        },
      ],
      [
        /^\/volume\/v3\/:project_id\/backups\/:id/,
        ':id',
        () => {
          placeholders.add('backups/:id');
          return MISSING;
        },
      ],
      [/^\/volume\/v3\/:project_id\/snapshots\/:id/, ':id', snapshot],
      [/^\/volume\/v3\/:project_id\/volumes\/:id/, ':id', volume],
      [/^\/volume\/v3\/:project_id\/types\/:id/, ':id', volumeType],
      [/^\/volume\/v3\/:project_id\/qos-specs\/:id/, ':id', qosSpecs],
      [/^\/volume\/v3\/:project_id\/(os-volume-transfer|volume-transfers)\/:id/, ':id', transfer],
      [/^\/volume\/v3\//, ':target', A.id],
      [/^\/volume\/v3\//, ':cls', 'default'],
      [/^\/volume\/v3\//, ':host', cloud.controller.deps.volume.stats.volumeHost],
      [/^\/volume\/v3\//, ':action', 'enable'],
      [/^\/volume\/v3\//, ':project_id', A.id],
      // monitoring (Gureum's own graphs)
      [/^\/monitoring\/v1\/servers\/:id/, ':id', server],
      [/^\/monitoring\/v1\/projects\/:project_id/, ':project_id', A.id],
      // shared
      [/./, ':key', 'k'],
      [/./, ':tag', 'x'],
    ];
    const unfilled: string[] = [];
    const fillPath = (url: string): string | undefined => {
      let path = url;
      for (const [re, param, value] of fill) {
        if (!re.test(url)) continue;
        const at = new RegExp(`${param}(?=/|$|\\.)`);
        if (at.test(path)) path = path.replace(at, encodeURIComponent(typeof value === 'function' ? value() : value));
      }
      return /:[a-z_]/i.test(path) ? undefined : path;
    };

    // ---- the cases
    const routes = walkRoutes(declaredRoutes(cloud.controller.server)).filter(
      (r) => !r.public && r.policy !== undefined,
    );
    const cases: Case[] = [];
    for (const route of routes) {
      const path = fillPath(route.url);
      if (!path) {
        unfilled.push(`${route.method} ${route.url}`);
        continue;
      }
      const params = Object.fromEntries(
        [...route.url.matchAll(/:(\w+)/g)].map((m, i) => [
          m[1]!,
          decodeURIComponent(path.split('/')[route.url.split('/').indexOf(m[0])] ?? String(i)),
        ]),
      );
      const bodies: (unknown | undefined)[] =
        typeof route.policy === 'object'
          ? Object.keys(route.policy.byAction).map((action) => ({ [action]: null }))
          : [['POST', 'PUT', 'PATCH'].includes(route.method) && route.body === undefined ? {} : undefined];
      // Quota defaults belong to no project (Nova lets anyone read them); everything else naming A's object is A's.
      const owned =
        !/\/defaults?$/.test(path) &&
        ([...ownedByA].some((id) => path.split('/').includes(id)) || /\/os-keypairs\/kp-a$/.test(path));
      for (const body of bodies) {
        for (const persona of personas) {
          const headers: Record<string, string> = {};
          if (route.url === '/identity/v3/auth/tokens') headers['x-subject-token'] = persona.token;
          const config = { policy: route.policy, ...(route.target ? { target: route.target } : {}) } as RouteConfig;
          const rule = ruleOf(config, body)!;
          const target = route.target
            ? await route.target({ params, query: {}, body, headers }, persona.auth)
            : ownScope(persona.auth);
          const ownerOk =
            !!route.target ||
            route.url.startsWith('/identity/') ||
            !owned ||
            isAdmin(persona.auth) ||
            (/os-keypairs/.test(path) ? persona.auth.userId === memberA.id : persona.auth.projectId === A.id);
          let payload: Buffer | undefined;
          let jsonBody = body;
          if (route.body === 'raw') {
            payload = Buffer.alloc(16, 1);
            headers['content-type'] = 'application/octet-stream';
          }
          if (route.method === 'PATCH' && route.url.startsWith('/image/v2/images/')) {
            headers['content-type'] = 'application/openstack-images-v2.1-json-patch';
            jsonBody = [];
          }
          const ruleAllows = allowed(persona.auth, rule, target);
          cases.push({
            persona,
            route,
            method: route.method,
            path,
            headers,
            rule,
            expectAllowed: ruleAllows && ownerOk,
            ...(!ruleAllows ? { deniedBy: 'rule' as const } : !ownerOk ? { deniedBy: 'owner' as const } : {}),
            ...(jsonBody !== undefined ? { body: jsonBody } : {}),
            ...(payload ? { payload } : {}),
          });
        }
      }
    }

    const failures: string[] = [];
    const run = async (batch: Case[]) => {
      for (let i = 0; i < batch.length; i += 12) {
        await Promise.all(
          batch.slice(i, i + 12).map(async (c) => {
            const res = await cloud.request(c.method, c.path, {
              token: c.persona.token,
              headers: c.headers,
              ...(c.payload ? { payload: c.payload } : c.body !== undefined ? { body: c.body } : {}),
            });
            const what =
              `${c.persona.name} ${c.method} ${c.route.url} ` +
              `[${c.rule}${c.body ? ` ${JSON.stringify(c.body)}` : ''}]`;
            // 501 is Nova's answer for host power actions the driver lacks (NotImplemented), not a crash.
            if (res.status >= 500 && res.status !== 501)
              failures.push(`${what}: ${res.status} (a 5xx) ${res.text.slice(0, 200)}`);
            else if (c.expectAllowed && (res.status === 401 || res.status === 403))
              failures.push(`${what}: allowed by the table, got ${res.status} ${res.text.slice(0, 160)}`);
            else if (
              !c.expectAllowed &&
              !(res.status === 403 || res.status === 404 || (c.deniedBy === 'owner' && res.status === 400))
            )
              failures.push(`${what}: denied by the table, got ${res.status} ${res.text.slice(0, 160)}`);
          }),
        );
      }
    };
    const denied = cases.filter((c) => !c.expectAllowed);
    const reads = cases.filter((c) => c.expectAllowed && (c.method === 'GET' || c.method === 'HEAD'));
    const writes = cases.filter((c) => c.expectAllowed && !['GET', 'HEAD', 'DELETE'].includes(c.method));
    // Revoking a token revokes the persona's own (its subject): those go last, after everything else it sends.
    // Deleting A's project, its users or the reader role ends tokens, and so does revoking one's own: identity deletes
    // go after the other deletes, the others' before the admin's, each persona's revocation last of its own.
    const allowedDeletes = cases.filter((c) => c.expectAllowed && c.method === 'DELETE');
    const isRevoke = (c: Case) => c.route.url === '/identity/v3/auth/tokens';
    const byAdmin = (c: Case) => c.persona.name === 'admin';
    const deletes = allowedDeletes.filter((c) => !c.route.url.startsWith('/identity/'));
    const identityDeletes = [
      allowedDeletes.filter((c) => c.route.url.startsWith('/identity/') && !isRevoke(c) && !byAdmin(c)),
      allowedDeletes.filter((c) => isRevoke(c) && !byAdmin(c)),
      allowedDeletes.filter((c) => c.route.url.startsWith('/identity/') && !isRevoke(c) && byAdmin(c)),
      allowedDeletes.filter((c) => isRevoke(c) && byAdmin(c)),
    ];

    const before = await dump(cloud);
    await run(denied);
    const after = await dump(cloud);
    const changed = Object.keys(before).filter((t) => JSON.stringify(before[t]) !== JSON.stringify(after[t]));
    await run(reads);
    await run(writes);
    await run(deletes);
    for (const batch of identityDeletes) await run(batch);

    const covered = new Set(cases.map((c) => `${c.method} ${c.route.url}`)).size;
    console.log(
      `routes covered: ${covered} of ${routes.length}, requests: ${cases.length} ` +
        `(denied ${denied.length}, allowed ${reads.length + writes.length + allowedDeletes.length}), ` +
        `${Date.now() - started} ms`,
    );
    console.log(`routes run with a placeholder id: ${[...placeholders].sort().join('; ') || 'none'}`);
    if (unfilled.length) console.log(`routes not filled:\n  ${unfilled.join('\n  ')}`);

    assert.deepEqual(unfilled, [], 'every route with a policy is filled');
    assert.deepEqual(
      [...placeholders].sort(),
      Object.keys(JUSTIFIED_PLACEHOLDERS)
        .filter((k) => placeholders.has(k))
        .sort(),
    );
    assert.deepEqual(failures.sort(), [], `${failures.length} answers differ from the policy table`);
    assert.deepEqual(changed, [], 'denied requests changed nothing');
    assert.equal((await cloud.request('GET', '/healthz')).status, 200);
  } finally {
    await cloud.close();
  }
});
