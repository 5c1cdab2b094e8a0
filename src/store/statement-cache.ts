// Reuses better-sqlite3 prepared statements across queries of the same SQL text.
// Why: Kysely's SQLite driver calls `prepare(sql)` for every query, and a CPU profile of token validation showed
// SQLite's statement compilation as the largest single cost of an identity request (~17 % of the server's busy time;
// a validation runs a dozen small SELECTs). Kysely's SQL text is stable for a given query shape (values are bound
// parameters), so a bounded map from SQL text to statement serves almost every query from memory.
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** The part of a better-sqlite3 statement the cache needs beyond Kysely's view of it. */
interface Statement extends SqliteStatement {
  /** True while an iterator over it is open (Kysely's streamQuery): such a statement cannot run another query. */
  readonly busy: boolean;
}

export interface PreparingDatabase {
  prepare(sql: string): Statement;
  close(): void;
}

/**
 * A SqliteDatabase for Kysely that keeps up to `max` prepared statements, least recently used dropped first.
 * A statement still being iterated is never handed out twice: the caller then gets a fresh one.
 * SQLite re-prepares a statement by itself when the schema changes under it (sqlite3_prepare_v2), so cached
 * statements stay correct across migrations.
 */
export function withStatementCache(db: PreparingDatabase, max = 512): SqliteDatabase & { readonly size: number } {
  const cache = new Map<string, Statement>();
  return {
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Map keeps insertion order: re-inserting marks it the most recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      }
      return stmt;
    },
    close(): void {
      cache.clear();
      db.close();
    },
    get size() {
      return cache.size;
    },
  };
}
