import type { Kysely } from 'kysely';

/**
 * The audit trail: one row per state-changing API call. Append-only: nothing updates a row; only retention deletes
 * rows older than the configured age (hence the index on created_at).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('user_name', 'text')
    .addColumn('project_id', 'text')
    .addColumn('domain_id', 'text')
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('action', 'text')
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', 'double precision', (c) => c.notNull())
    .addColumn('remote_addr', 'text')
    .execute();
  await db.schema.createIndex('audit_events_created').on('audit_events').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('audit_events_project').on('audit_events').column('project_id').execute();
  await db.schema.createIndex('audit_events_user').on('audit_events').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_events').execute();
}
