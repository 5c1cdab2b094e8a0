// Starts a real `gureum up` for a test: free port, fresh data dir, ready when /healthz answers 200.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, describeExchange } from './http.js';

/**
 * The compiled CLI entry point: dist/test/helpers/server.js -> dist/src/cli/main.js
 * (env GUREUM_TEST_MAIN_JS points elsewhere, e.g. at a stub when testing these helpers).
 */
export const MAIN_JS =
  process.env.GUREUM_TEST_MAIN_JS || fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Password credentials for a user, scoped to a project. */
export interface Credentials {
  username: string;
  password: string;
  projectName: string;
  /** Domain of the user and, unless projectDomainName says otherwise, of the project. */
  domainName: string;
  /** Domain of the project when it differs from domainName. */
  projectDomainName?: string;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Sets GUREUM_DATABASE_URL (PostgreSQL); without it the server uses SQLite in its data dir. */
  databaseUrl?: string;
  /** Also append everything the server prints to this file. */
  logFile?: string;
  /** Milliseconds to wait for /healthz (default 30 000). */
  readyTimeoutMs?: number;
  /** Keep the data dir after stop() (also with env GUREUM_TEST_KEEP_DATA=1). */
  keepDataDir?: boolean;
}

/** A running server. */
export interface TestServer {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  port: number;
  dataDir: string;
  /** The admin credentials the server wrote into clouds.yaml. */
  admin: Credentials;
  /** auth_url from clouds.yaml. */
  authUrl: string;
  /** region_name from clouds.yaml. */
  regionName: string;
  /** Path of DATA_DIR/clouds.yaml. */
  cloudsYaml: string;
  /** Path of DATA_DIR/admin-openrc.sh. */
  openrc: string;
  /** The last part of what the server printed (stdout and stderr together). */
  logs(): string;
  /** SIGTERM, SIGKILL after 5 s, then removes the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

const LOG_LIMIT = 64 * 1024;
const live = new Set<ChildProcess>();
let exitHooked = false;

/** Kills servers left running when the test process ends, even through a signal. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const child of live) child.kill('SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `node dist/src/cli/main.js up` on a free port with a fresh data dir. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      // Another process took the port between our probe and the server's bind: try another.
      if (!(err instanceof Error && /EADDRINUSE/.test(err.message))) throw err;
    }
  }
  throw lastError;
}

async function startOnce(opts: StartOptions): Promise<TestServer> {
  hookExit();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-test-'));
  // A test server on the bridge data plane (root, QEMU) keeps the public gateway off the host: test servers run side
  // by side, and each would put 172.24.4.1 on its own host bridge.
  const env: Record<string, string | undefined> = {
    GUREUM_HYPERVISOR: 'fake',
    GUREUM_TINY_IMAGE: '0',
    GUREUM_NET_HOST_GATEWAY: '0',
    ...process.env,
    ...opts.env,
  };
  if (opts.databaseUrl) env.GUREUM_DATABASE_URL = opts.databaseUrl;
  else if (!opts.env?.GUREUM_DATABASE_URL) delete env.GUREUM_DATABASE_URL;

  const child = spawn(
    process.execPath,
    ['--enable-source-maps', MAIN_JS, 'up', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let output = '';
  let logStream: WriteStream | undefined;
  if (opts.logFile) logStream = createWriteStream(opts.logFile, { flags: 'a' });
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > LOG_LIMIT) output = output.slice(-LOG_LIMIT);
    logStream?.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve();
    });
    child.on('error', (err) => {
      collect(Buffer.from(`spawn error: ${err.message}\n`));
      exited = { code: null, signal: null };
      live.delete(child);
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    // A server on the Linux bridge data plane (root, QEMU) leaves its bridges, namespaces and dnsmasq running on
    // purpose (guests keep their traffic across restarts): the test takes them away with the data dir.
    if (existsSync(join(dataDir, 'net'))) {
      const purge = spawnSync(process.execPath, [MAIN_JS, 'net', 'purge', '--data-dir', dataDir], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (purge.status !== 0) collect(Buffer.from(`net purge failed: ${purge.stderr}\n`));
    }
    // Wait for the pipes to drain so the log holds the server's last words.
    await new Promise((resolve) => setImmediate(resolve));
    if (logStream) await new Promise((resolve) => logStream!.end(resolve));
    if (!opts.keepDataDir && process.env.GUREUM_TEST_KEEP_DATA !== '1') {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const tailOf = () => output.split('\n').slice(-40).join('\n');

  // Wait for /healthz.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  let lastProbe = 'no answer yet';
  for (;;) {
    if (exited) {
      const { code, signal } = exited;
      await stop();
      throw new Error(
        `gureum up exited before it was ready (code ${code}, signal ${signal}); ` +
          `${MAIN_JS}\n--- server output (tail) ---\n${tailOf()}`,
      );
    }
    try {
      const res = await request('GET', `${baseUrl}/healthz`, { timeoutMs: 2_000 });
      if (res.status === 200) break;
      lastProbe = describeExchange('GET', '/healthz', res);
    } catch (err) {
      lastProbe = `GET /healthz: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `gureum up was not ready within ${(opts.readyTimeoutMs ?? 120_000) / 1000} s (last probe: ${lastProbe})\n` +
          `--- server output (tail) ---\n${tailOf()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const cloudsYaml = join(dataDir, 'clouds.yaml');
  const openrc = join(dataDir, 'admin-openrc.sh');
  let cloud: CloudConfig;
  try {
    cloud = readCloudConfig(cloudsYaml, openrc);
  } catch (err) {
    await stop();
    throw new Error(`server is up but its credentials could not be read: ${(err as Error).message}`);
  }
  return {
    baseUrl,
    port,
    dataDir,
    admin: cloud.admin,
    authUrl: cloud.authUrl,
    regionName: cloud.regionName,
    cloudsYaml,
    openrc,
    logs: tailOf,
    stop,
  };
}

/** What a test needs from clouds.yaml. */
export interface CloudConfig {
  admin: Credentials;
  authUrl: string;
  regionName: string;
}

/**
 * Reads cloud `gureum` from clouds.yaml; values it lacks come from admin-openrc.sh
 * (`export OS_PASSWORD=...`).
 */
export function readCloudConfig(cloudsYamlPath: string, openrcPath?: string, cloudName = 'gureum'): CloudConfig {
  let auth: Record<string, unknown> = {};
  let cloud: Record<string, unknown> = {};
  const problems: string[] = [];
  try {
    const doc = parseSimpleYaml(readFileSync(cloudsYamlPath, 'utf8'));
    cloud = ((doc.clouds as Record<string, unknown> | undefined)?.[cloudName] ?? {}) as Record<string, unknown>;
    auth = (cloud.auth ?? {}) as Record<string, unknown>;
    if (Object.keys(cloud).length === 0) problems.push(`${cloudsYamlPath} has no clouds.${cloudName}`);
  } catch (err) {
    problems.push(`${cloudsYamlPath}: ${(err as Error).message}`);
  }
  let rc: Record<string, string> = {};
  if (openrcPath) {
    try {
      rc = parseOpenrc(readFileSync(openrcPath, 'utf8'));
    } catch (err) {
      problems.push(`${openrcPath}: ${(err as Error).message}`);
    }
  }
  const pick = (yamlValue: unknown, rcName: string, fallback?: string): string => {
    if (typeof yamlValue === 'string' && yamlValue !== '') return yamlValue;
    if (rc[rcName]) return rc[rcName]!;
    if (fallback !== undefined) return fallback;
    throw new Error(`no ${rcName} in clouds.yaml or admin-openrc.sh (${problems.join('; ') || 'both read'})`);
  };
  const domainName = pick(auth.user_domain_name ?? auth.domain_name, 'OS_USER_DOMAIN_NAME', 'Default');
  return {
    admin: {
      username: pick(auth.username, 'OS_USERNAME'),
      password: pick(auth.password, 'OS_PASSWORD'),
      projectName: pick(auth.project_name, 'OS_PROJECT_NAME'),
      domainName,
      projectDomainName: pick(auth.project_domain_name, 'OS_PROJECT_DOMAIN_NAME', domainName),
    },
    authUrl: pick(auth.auth_url, 'OS_AUTH_URL'),
    regionName: pick(cloud.region_name, 'OS_REGION_NAME', 'RegionOne'),
  };
}

/** A YAML value tree of nested mappings with string leaves. */
export type YamlTree = { [key: string]: string | YamlTree };

/**
 * Reads the block-mapping subset of YAML that clouds.yaml uses: `key: value` and `key:` followed by
 * a more indented block, plain or quoted scalars, `#` comments. No lists, anchors or flow style.
 */
export function parseSimpleYaml(text: string): YamlTree {
  const root: YamlTree = {};
  const stack: { indent: number; node: YamlTree }[] = [{ indent: -1, node: root }];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw);
    if (line.trim() === '' || line.trim() === '---') return;
    const indent = line.length - line.trimStart().length;
    const m = /^([^:]+?|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(line.trim());
    if (!m) throw new Error(`line ${i + 1}: not a "key: value" line: ${raw}`);
    while (stack.length > 1 && indent <= stack[stack.length - 1]!.indent) stack.pop();
    const parent = stack[stack.length - 1]!.node;
    const key = unquote(m[1]!.trim());
    const value = m[2]?.trim() ?? '';
    if (value === '') {
      const child: YamlTree = {};
      parent[key] = child;
      stack.push({ indent, node: child });
    } else {
      parent[key] = unquote(value);
    }
  });
  return root;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replace(/''/g, "'");
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value.slice(1, -1);
    }
  }
  return value;
}

/** Reads `export NAME=value` lines (value plain, '...' or "...") from an openrc file. */
export function parseOpenrc(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2)
      value = value.slice(1, -1).replace(/'\\''/g, "'");
    else if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    vars[m[1]!] = value;
  }
  return vars;
}

/** The body of a password authentication scoped to the credentials' project. */
export function passwordAuthBody(creds: Credentials): unknown {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: creds.username, domain: { name: creds.domainName }, password: creds.password } },
      },
      scope: { project: { name: creds.projectName, domain: { name: creds.projectDomainName ?? creds.domainName } } },
    },
  };
}

/** POSTs /identity/v3/auth/tokens and returns the X-Subject-Token; throws with the exchange on failure. */
export async function getToken(baseUrl: string, creds: Credentials): Promise<string> {
  const url = `${baseUrl}/identity/v3/auth/tokens`;
  const res = await request('POST', url, { json: passwordAuthBody(creds) });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) {
    throw new Error(`token request failed: ${describeExchange('POST', url, res)}`);
  }
  return token;
}
