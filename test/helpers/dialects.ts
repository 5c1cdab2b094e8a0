// Runs the same test body once per database dialect: SQLite (in memory) and PostgreSQL (a fresh database).
import type { TestContext } from 'node:test';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { requireOrSkip, testPgUrl } from './requirements.js';

export interface DialectCase {
  name: 'sqlite' | 'postgres';
  /** Returns a database URL for one test, and a function that drops it afterwards. */
  open(t: TestContext): Promise<{ url: string; drop(): Promise<void> } | undefined>;
}

/** A throwaway database inside the test cluster, so tests never see each other's rows. */
async function freshPgDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gureum_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const dialects: DialectCase[] = [
  { name: 'sqlite', open: async () => ({ url: ':memory:', drop: async () => {} }) },
  {
    name: 'postgres',
    open: async (t) => {
      const base = testPgUrl();
      if (
        !requireOrSkip(
          t,
          base,
          'PostgreSQL is not available (scripts/run-tests.mjs starts one; set GUREUM_TEST_PG_URL to use another)',
        )
      )
        return undefined;
      return freshPgDatabase(base!);
    },
  },
];
