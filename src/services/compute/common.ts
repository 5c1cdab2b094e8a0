import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Db, Dialect } from '../../store/database.js';
import { isUniqueViolation } from '../../store/database.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';

/** What every compute module gets. */
export interface ComputeDeps {
  db: Kysely<Database>;
  dialect: Dialect;
}

/** ISO timestamp for the columns. */
export const nowIso = (): string => new Date().toISOString();

/** Nova's time format in API bodies: "2026-11-22T02:26:49Z". */
export function novaTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** Nova's microsecond format used by a few APIs (instance actions, migrations): "2026-11-22T02:26:49.000000". */
export function novaTimeMicro(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');
}

/** The store's JSON-text reader under the name compute has always used (one implementation: src/util/json.ts). */
export { fromJson as parseJson } from '../../util/json.js';

export { isAdmin };
export type { AuthContext, Db };

/** Next integer id for tables with Nova-style integer ids (aggregates, migrations, keypairs). */
export async function nextIntId(
  trx: Db,
  table: 'compute_aggregates' | 'compute_migrations' | 'compute_keypairs',
): Promise<number> {
  const r = await trx
    .selectFrom(table)
    .select((eb) => eb.fn.max<number>('id').as('m'))
    .executeTakeFirst();
  return Number(r?.m ?? 0) + 1;
}

/** Retries `fn` when a concurrent writer took the same integer id (PostgreSQL). */
export async function withIdRetry<T>(fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i + 1 >= tries || !isUniqueViolation(e)) throw e;
    }
  }
}

/** A uuid-looking string (Nova validates ids in paths loosely; bad ones are simply not found). */
export const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
