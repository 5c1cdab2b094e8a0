import type { Kysely } from 'kysely';

/** The backed-up volume's own metadata, restored with the data (as Cinder keeps it with the backup). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('volume_backups')
    .addColumn('volume_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('volume_backups').dropColumn('volume_metadata').execute();
}
