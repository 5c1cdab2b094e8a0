import { Kysely, SqliteDialect, PostgresDialect, sql, type LogEvent, type Transaction } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import type PgModule from 'pg';
import { createRequire } from 'node:module';
import { ensureDir } from '../util/fs.js';
import { chmodSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Database } from './tables.js';
import { withStatementCache } from './statement-cache.js';

export type Dialect = 'sqlite' | 'postgres';

/** The open database: the typed Kysely handle plus which dialect it speaks. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** PostgreSQL's connection pool right now; absent on SQLite (one connection, no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** What the opener may be told: a callback per executed statement (kind = select/insert/update/delete/other). */
export interface StoreOptions {
  onQuery?: (kind: string, ms: number) => void;
}

/** The statement's first keyword, lowercased: a bounded label for query timings. */
function statementKind(text: string): string {
  const w = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? '';
  return ['select', 'insert', 'update', 'delete', 'with'].includes(w) ? w : 'other';
}

function queryLog(opts: StoreOptions): { log?: (e: LogEvent) => void } {
  const on = opts.onQuery;
  if (!on) return {};
  return {
    log: (e) => {
      if (e.level === 'query') on(statementKind(e.query.sql), e.queryDurationMillis);
    },
  };
}

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * The PostgreSQL client, loaded only when a postgres:// URL is opened. Why: loading `pg` costs ~7 % of the CPU of a
 * start on SQLite (its module probes for a Cloudflare runtime with `new Response()`, which loads Node's whole fetch
 * implementation), and most clouds never use it.
 */
const loadPg = (): typeof PgModule => createRequire(import.meta.url)('pg') as typeof PgModule;

/**
 * Opens the database named by `url`: "sqlite" (DATA_DIR/gureum.db), "sqlite:PATH", ":memory:" or a postgres:// URL.
 * Columns are portable on purpose: booleans are 0/1 integers, JSON and timestamps are text, so one code path serves
 * both.
 */
export function openStore(url: string, dataDir: string, opts: StoreOptions = {}): Store {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pg = loadPg();
    // int8 comes back as a string by default; our counters fit in a double.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...queryLog(opts) });
    return {
      db,
      dialect: 'postgres',
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  let file: string;
  if (url === ':memory:' || url === 'sqlite::memory:') file = ':memory:';
  else if (url === 'sqlite') file = join(dataDir, 'gureum.db');
  else if (url.startsWith('sqlite:')) file = url.slice('sqlite:'.length);
  else throw new Error(`unsupported database URL "${url}" (want sqlite, sqlite:PATH or postgres://...)`);
  if (file !== ':memory:') {
    if (!isAbsolute(file)) file = join(dataDir, file);
    ensureDir(dirname(file), 0o700);
  }
  const sqlite = new BetterSqlite3(file);
  // The database holds password hashes and secrets: owner only, whatever the umask (SQLite gives its -wal/-shm
  // files the database file's mode).
  if (file !== ':memory:') chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    ...queryLog(opts),
  });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/** 0/1 for a boolean column (portable across both dialects). */
export const bool = (b: boolean | undefined | null): number => (b ? 1 : 0);

/**
 * Reads a JSON text column, tolerating NULL (lives in util so the API layer can use it without importing the store).
 */
export { fromJson } from '../util/json.js';

/** True when the error is a unique-constraint violation in either dialect. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Runs `fn` in a transaction. */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}

export { sql };
