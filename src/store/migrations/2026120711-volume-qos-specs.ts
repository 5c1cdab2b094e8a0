import type { Kysely } from 'kysely';

/**
 * Cinder's QoS specs: named sets of limits a volume type points at (volume_types.qos_specs_id, which the first
 * volume migration already has). `consumer` says who enforces them: front-end (the hypervisor), back-end or both.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volume_qos_specs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('specs', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('volume_qos_specs').execute();
}
