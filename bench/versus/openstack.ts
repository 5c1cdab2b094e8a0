// bench/versus: Debian's own Keystone and Glance, configured the way a small deployment runs them, in a temp dir.
//
// - Code: Debian 12's python3-keystone and python3-glance (the packages the `keystone` and `glance-api` service
//   packages wrap; those also install system services that start on install and ask debconf questions, which a
//   benchmark must not leave behind, so the bench runs the same code under its own uWSGI instead).
// - uWSGI settings: Debian's keystone-uwsgi.ini / glance-api-uwsgi.ini (master, lazy-apps, 32 threads, listen 100,
//   Glance's chunked-input options and its "Connection: close"), with `processes` = 2 × cores as those files'
//   comment says, on a loopback port, logs and state in the temp dir, no apparmor or uid switch.
// - Keystone: fernet tokens, bcrypt (its default), SQLite; Glance: the file store, SQLite, keystonemiddleware
//   auth_token against that Keystone (its in-process token cache; no memcached on either side).
// Everything runs in its own process group and is killed with it; the temp dir is removed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../test/helpers/server.js';
import { send } from '../lib/load.js';

export interface UwsgiService {
  name: string;
  baseUrl: string;
  pid: number;
  /** ms from spawn to the first 200 on `readyPath`. */
  startMs: number;
  stop(): Promise<void>;
}

export interface OpenStackSide {
  keystone: UwsgiService;
  glance: UwsgiService;
  adminPassword: string;
  dir: string;
  /** Restarts Keystone on its existing database; resolves with ms to the first 200. */
  restartKeystone(): Promise<number>;
  stop(): Promise<void>;
}

const PROCESSES = 2 * cpus().length;

/** Debian's generic uWSGI settings for an OpenStack API, as in its keystone-uwsgi.ini. */
function uwsgiIni(name: string, wsgiFile: string, logFile: string, extra: string[] = []): string {
  return [
    '[uwsgi]',
    'buffer-size = 65535',
    'rem-header = Content-Length',
    'master = true',
    'thunder-lock = true',
    'plugins = python3',
    'lazy-apps = true',
    'paste-logger = true',
    'no-orphans = true',
    'die-on-term = true',
    'enable-threads = true',
    `processes = ${PROCESSES}`,
    'threads = 32',
    'listen = 100',
    ...extra,
    `logto = ${logFile}`,
    `name = ${name}`,
    `wsgi-file = ${wsgiFile}`,
    '',
  ].join('\n');
}

/** Glance's additions in Debian's glance-api-uwsgi.ini. */
const GLANCE_UWSGI = [
  'socket-timeout = 10',
  'http-auto-chunked = true',
  'http-chunked-input = true',
  'http-raw-body = true',
  'add-header = Connection: close',
  'exit-on-reload = true',
  'wsgi-manage-chunked-input = true',
];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

async function waitFor200(
  baseUrl: string,
  path: string,
  child: ChildProcess,
  t0: bigint,
  logFile: string,
): Promise<number> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      if ((await send(baseUrl, { method: 'GET', path })).status === 200)
        return Number(process.hrtime.bigint() - t0) / 1e6;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').slice(-3000);
      } catch {
        /* none */
      }
      throw new Error(`${baseUrl}${path} never answered 200 (exit ${child.exitCode}); log tail:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startUwsgi(
  name: string,
  ini: string,
  port: number,
  readyPath: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
): Promise<UwsgiService> {
  const t0 = process.hrtime.bigint();
  // detached: its own process group, so the master and its workers go with one kill.
  const child = spawn('/usr/bin/uwsgi_python3', ['--ini', ini, '--http-socket', `127.0.0.1:${port}`], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
    // Workers that outlived the master (no-orphans should prevent it) share the group.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* none left */
    }
  };
  try {
    const startMs = await waitFor200(baseUrl, readyPath, child, t0, logFile);
    return { name, baseUrl, pid: child.pid!, startMs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Sum of VmRSS of a process and all its descendants, in MB (uWSGI: master and workers). */
export function treeRssMb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) / 1024;
    } catch {
      /* exited */
    }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Keystone's password hash cost in its own code path (bcrypt, its default rounds), one hash and one verify. */
export function keystoneHashCost(): { algorithm: string; hashMs: number; verifyMs: number } {
  const py = [
    'import time, json',
    'from keystone.common import password_hashing',
    'import keystone.conf',
    'keystone.conf.configure()',
    'CONF = keystone.conf.CONF',
    "CONF([], project='keystone', default_config_files=[])",
    't=time.perf_counter(); h=password_hashing.hash_password("correct horse battery staple"); a=time.perf_counter()-t',
    't=time.perf_counter(); ok=password_hashing.check_password("correct horse battery staple", h); ' +
      'b=time.perf_counter()-t',
    "print(json.dumps({'algorithm': CONF.identity.password_hash_algorithm + ' rounds ' + h.split('$')[2], 'hashMs': " +
      "a*1000, 'verifyMs': b*1000, 'ok': ok}))",
  ].join('\n');
  const out = JSON.parse(run('/usr/bin/python3', ['-c', py]).trim().split('\n').pop()!);
  if (!out.ok) throw new Error('Keystone could not verify its own hash');
  return out;
}

const GLANCE_PASTE = `[pipeline:glance-api-keystone]
pipeline = versionnegotiation authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
`;

/** Sets up and starts Keystone, then Glance (which needs a service user in that Keystone). */
export async function startOpenStack(): Promise<OpenStackSide> {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-versus-'));
  const services: UwsgiService[] = [];
  try {
    const adminPassword = randomBytes(12).toString('hex');
    const glancePassword = randomBytes(12).toString('hex');
    const [kPort, gPort] = [await freePort(), await freePort()];
    const kUrl = `http://127.0.0.1:${kPort}`;

    // Keystone
    const kdir = join(dir, 'keystone');
    for (const d of ['', 'fernet-keys', 'credential-keys', 'receipt-keys'])
      mkdirSync(join(kdir, d), { recursive: true, mode: 0o700 });
    const kconf = join(kdir, 'keystone.conf');
    writeFileSync(
      kconf,
      [
        '[DEFAULT]',
        `log_file = ${join(kdir, 'keystone.log')}`,
        '[database]',
        `connection = sqlite:///${join(kdir, 'keystone.db')}`,
        '[token]',
        'provider = fernet',
        '[fernet_tokens]',
        `key_repository = ${join(kdir, 'fernet-keys')}`,
        '[fernet_receipts]',
        `key_repository = ${join(kdir, 'receipt-keys')}`,
        '[credential]',
        `key_repository = ${join(kdir, 'credential-keys')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const manage = (...args: string[]) => run('keystone-manage', ['--config-file', kconf, ...args]);
    manage('db_sync');
    manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    manage(
      'bootstrap',
      '--bootstrap-password',
      adminPassword,
      '--bootstrap-admin-url',
      `${kUrl}/v3/`,
      '--bootstrap-public-url',
      `${kUrl}/v3/`,
      '--bootstrap-internal-url',
      `${kUrl}/v3/`,
      '--bootstrap-region-id',
      'RegionOne',
    );
    const kIni = join(kdir, 'uwsgi.ini');
    writeFileSync(kIni, uwsgiIni('keystone-api', '/usr/bin/keystone-wsgi-public', join(kdir, 'uwsgi.log')));
    const kEnv = { ...process.env, OS_KEYSTONE_CONFIG_FILES: kconf };
    const startKeystone = () => startUwsgi('keystone', kIni, kPort, '/v3', join(kdir, 'uwsgi.log'), kEnv);
    let keystone = await startKeystone();
    services.push(keystone);

    // Glance's service user, as any deployment makes it.
    const auth = await send(kUrl, {
      method: 'POST',
      path: '/v3/auth/tokens',
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const h = { 'x-auth-token': String(auth.headers['x-subject-token']) };
    const post = async (path: string, body: unknown) => {
      const r = await send(kUrl, { method: 'POST', path, headers: h, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`Keystone ${path}: ${r.status} ${r.body}`);
      return JSON.parse(r.body);
    };
    const project = (await post('/v3/projects', { project: { name: 'service', domain_id: 'default' } })).project
      .id as string;
    const user = (await post('/v3/users', { user: { name: 'glance', domain_id: 'default', password: glancePassword } }))
      .user.id as string;
    const roles = JSON.parse((await send(kUrl, { method: 'GET', path: '/v3/roles?name=admin', headers: h })).body)
      .roles as { id: string }[];
    const put = await send(kUrl, {
      method: 'PUT',
      path: `/v3/projects/${project}/users/${user}/roles/${roles[0]!.id}`,
      headers: h,
    });
    if (put.status !== 204) throw new Error(`role assignment: ${put.status}`);

    // Glance
    const gdir = join(dir, 'glance');
    for (const d of ['', 'images', 'staging', 'locks']) mkdirSync(join(gdir, d), { recursive: true, mode: 0o700 });
    writeFileSync(join(gdir, 'glance-api-paste.ini'), GLANCE_PASTE);
    const gconf = join(gdir, 'glance-api.conf');
    writeFileSync(
      gconf,
      [
        '[DEFAULT]',
        `log_file = ${join(gdir, 'glance-api.log')}`,
        `node_staging_uri = file://${join(gdir, 'staging')}`,
        '[database]',
        `connection = sqlite:///${join(gdir, 'glance.db')}`,
        '[glance_store]',
        'stores = file',
        'default_store = file',
        `filesystem_store_datadir = ${join(gdir, 'images')}/`,
        '[keystone_authtoken]',
        `www_authenticate_uri = ${kUrl}`,
        `auth_url = ${kUrl}`,
        'auth_type = password',
        'project_domain_name = Default',
        'user_domain_name = Default',
        'project_name = service',
        'username = glance',
        `password = ${glancePassword}`,
        '[paste_deploy]',
        'flavor = keystone',
        `config_file = ${join(gdir, 'glance-api-paste.ini')}`,
        '[oslo_concurrency]',
        `lock_path = ${join(gdir, 'locks')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // glance-manage's and glance-wsgi-api's entry points (glance-common ships them as two-line scripts).
    run('/usr/bin/python3', [
      '-c',
      'import sys; from glance.cmd.manage import main; sys.exit(main())',
      '--config-file',
      gconf,
      'db_sync',
    ]);
    const wsgi = join(gdir, 'glance-wsgi-api.py');
    writeFileSync(wsgi, 'from glance.common.wsgi_app import init_app\napplication = init_app()\n');
    const gIni = join(gdir, 'uwsgi.ini');
    writeFileSync(gIni, uwsgiIni('glance-api', wsgi, join(gdir, 'uwsgi.log'), GLANCE_UWSGI));
    const glance = await startUwsgi('glance', gIni, gPort, '/versions', join(gdir, 'uwsgi.log'), {
      ...process.env,
      OS_GLANCE_CONFIG_DIR: gdir,
    });
    services.push(glance);

    return {
      get keystone() {
        return keystone;
      },
      glance,
      adminPassword,
      dir,
      async restartKeystone() {
        await keystone.stop();
        keystone = await startKeystone();
        services[0] = keystone;
        return keystone.startMs;
      },
      async stop() {
        for (const s of services) await s.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const s of services) await s.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
