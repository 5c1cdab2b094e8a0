import type { Kysely } from 'kysely';

/** Cinder's volume backups: records of backups whose data lives in the backup store (DATA_DIR/backups). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volume_backups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('volume_id', 'text', (c) => c.notNull())
    .addColumn('snapshot_id', 'text')
    .addColumn('parent_id', 'text')
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('container', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fail_reason', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('object_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_incremental', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('data_timestamp', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema.createIndex('volume_backups_volume').on('volume_backups').column('volume_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('volume_backups').execute();
}
