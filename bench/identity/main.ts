// bench/identity: Keystone hot paths on loopback against a real `gureum up` (SQLite), concurrency 1 and 16.
import { runLoad, send, rssMb, table, type LoadResult } from '../lib/load.js';
import { startBenchServer } from '../lib/server.js';
import { hashPassword, verifyPassword } from '../../src/services/identity/passwords.js';
import { defaults } from '../../src/config.js';

const N = Number(process.env.BENCH_N ?? 2000);

async function main() {
  // The password hash alone, in this process, with the configured (production) cost.
  const h0 = process.hrtime.bigint();
  const stored = await hashPassword('correct horse battery staple', defaults.identity.passwordHash);
  const hashMs = Number(process.hrtime.bigint() - h0) / 1e6;
  const v0 = process.hrtime.bigint();
  await verifyPassword('correct horse battery staple', stored);
  const verifyMs = Number(process.hrtime.bigint() - v0) / 1e6;

  const srv = await startBenchServer();
  try {
    const rssStart = rssMb(srv.pid);
    const pwBody = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: srv.adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    const first = await send(srv.baseUrl, { method: 'POST', path: '/identity/v3/auth/tokens', body: pwBody });
    const token = String(first.headers['x-subject-token']);
    const rescopeBody = JSON.stringify({
      auth: {
        identity: { methods: ['token'], token: { id: token } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });

    const rows: LoadResult[] = [];
    for (const c of [1, 16]) {
      rows.push(
        await runLoad('password auth (project scope)', srv.baseUrl, c, Math.min(N, 200), () => ({
          method: 'POST',
          path: '/identity/v3/auth/tokens?nocatalog',
          body: pwBody,
          expect: 201,
        })),
      );
      rows.push(
        await runLoad('token auth (re-scope)', srv.baseUrl, c, N, () => ({
          method: 'POST',
          path: '/identity/v3/auth/tokens?nocatalog',
          body: rescopeBody,
          expect: 201,
        })),
      );
      rows.push(
        await runLoad('token validation', srv.baseUrl, c, N, () => ({
          method: 'GET',
          path: '/identity/v3/auth/tokens?nocatalog',
          headers: { 'x-auth-token': token, 'x-subject-token': token },
          expect: 200,
        })),
      );
      rows.push(
        await runLoad('GET /v3/projects', srv.baseUrl, c, N, () => ({
          method: 'GET',
          path: '/identity/v3/projects',
          headers: { 'x-auth-token': token },
          expect: 200,
        })),
      );
    }
    // Fill up to 10,000 tokens (the re-scopes above already made some) and measure memory.
    await runLoad('issue tokens to 10k', srv.baseUrl, 16, 10_000, () => ({
      method: 'POST',
      path: '/identity/v3/auth/tokens?nocatalog',
      body: rescopeBody,
      expect: 201,
    }));
    const rss10k = rssMb(srv.pid);

    console.log('## bench/identity');
    console.log(
      `password hash (scrypt N=${defaults.identity.passwordHash.N}, r=${defaults.identity.passwordHash.r}, ` +
        `p=${defaults.identity.passwordHash.p}): hash ${hashMs.toFixed(1)} ms, verify ${verifyMs.toFixed(1)} ms ` +
        `(one call, this process)`,
    );
    console.log(table(rows));
    console.log(`RSS after start: ${rssStart.toFixed(1)} MB; after 10,000+ tokens: ${rss10k.toFixed(1)} MB`);
  } finally {
    await srv.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
