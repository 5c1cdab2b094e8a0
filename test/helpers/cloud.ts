// An in-process cloud for fast API tests: real Fastify routes via inject(), real SQLite (in memory) or PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, loadConfig, type ConfigLayer, type GureumConfig } from '../../src/config.js';
import { createController, type Controller } from '../../src/app/index.js';

export interface InjectOptions {
  token?: string;
  body?: unknown;
  /** Raw payload (string or Buffer) instead of a JSON body. */
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

export interface InjectResult {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** Parsed JSON when the answer is JSON, else undefined. */
  json: any;
  text: string;
}

export interface TestCloud {
  controller: Controller;
  config: GureumConfig;
  adminPassword: string;
  /** An admin token scoped to the admin project. */
  adminToken: string;
  request(method: string, url: string, opts?: InjectOptions): Promise<InjectResult>;
  /** Password auth, project scope; returns the token. */
  login(username: string, password: string, projectName?: string, domain?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts an in-process cloud. `databaseUrl` defaults to in-memory SQLite. */
export async function createTestCloud(
  opts: {
    databaseUrl?: string;
    config?: ConfigLayer /** Log lines go here (set logging.level too). */;
    logStream?: NodeJS.WritableStream;
  } = {},
): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-test-'));
  const base = loadConfig({ dataDir, databaseUrl: opts.databaseUrl ?? ':memory:', logLevel: 'silent' }, {});
  // Cheap password hashing keeps tests fast; production uses the configured OWASP cost.
  const cheap = configWith(base, {
    identity: { passwordHash: { N: 1024, r: 8, p: 1 } },
    server: { publicUrl: 'http://gureum.test' },
    virt: { driver: 'fake' },
    image: { tinyImage: false },
    // Test clouds run side by side on one machine: none makes bridges or takes the public gateway on the host unless
    // its test is about the data plane and asks for linuxbridge itself (test/e2e/dataplane-linuxbridge.test.ts).
    net: { dataPlane: 'user' },
  });
  const config: GureumConfig = opts.config ? configWith(cheap, opts.config) : cheap;
  const adminPassword = 'test-admin-password';
  const controller = await createController(config, { adminPassword, logStream: opts.logStream });
  await controller.server.ready();

  const request = async (method: string, url: string, o: InjectOptions = {}): Promise<InjectResult> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers['x-auth-token'] = o.token;
    let payload: string | Buffer | undefined = o.payload;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await controller.server.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let json: unknown;
    const ct = String(res.headers['content-type'] ?? '');
    if (ct.includes('json') && res.body) json = JSON.parse(res.body);
    return { status: res.statusCode, headers: res.headers, json, text: res.body };
  };

  const login = async (username: string, password: string, projectName = 'admin', domain = 'Default') => {
    const res = await request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: username, domain: { name: domain }, password } },
          },
          scope: { project: { name: projectName, domain: { name: domain } } },
        },
      },
    });
    if (res.status !== 201) throw new Error(`login ${username} failed: ${res.status} ${res.text}`);
    return String(res.headers['x-subject-token']);
  };

  const adminToken = await login('admin', adminPassword);
  return {
    controller,
    config,
    adminPassword,
    adminToken,
    request,
    login,
    async close() {
      await controller.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
