import type { Kysely } from 'kysely';

/** Cinder's volume transfers: a volume offered to any project that presents the key (kept only as a salted hash). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volume_transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('volume_id', 'text', (c) => c.notNull())
    .addColumn('source_project_id', 'text', (c) => c.notNull())
    .addColumn('destination_project_id', 'text')
    .addColumn('name', 'text')
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('crypt_hash', 'text', (c) => c.notNull())
    .addColumn('no_snapshots', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema.createIndex('volume_transfers_volume').on('volume_transfers').column('volume_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('volume_transfers').execute();
}
