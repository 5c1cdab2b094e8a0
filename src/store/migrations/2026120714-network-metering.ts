import type { Kysely } from 'kysely';

/** Neutron's metering extension: labels per project and their rules (deleted with their label). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('net_metering_labels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('net_metering_label_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('label_id', 'text', (c) => c.notNull().references('net_metering_labels.id').onDelete('cascade'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('remote_ip_prefix', 'text')
    .addColumn('source_ip_prefix', 'text')
    .addColumn('destination_ip_prefix', 'text')
    .addColumn('excluded', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('net_metering_rules_label').on('net_metering_label_rules').column('label_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('net_metering_label_rules').execute();
  await db.schema.dropTable('net_metering_labels').execute();
}
