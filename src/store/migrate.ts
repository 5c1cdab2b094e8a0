import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Store } from './database.js';
import { migrations } from './migrations/index.js';

/** Serves the in-repo migration list to Kysely's Migrator (no file-system scanning, so builds stay self-contained). */
class ListProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Brings the schema up to date. One history for SQLite and PostgreSQL. */
export async function migrateToLatest(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: new ListProvider(), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? error}`);
  }
}
