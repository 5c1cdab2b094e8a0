import type { Kysely } from 'kysely';

/** Keystone extras: domain-specific configuration (one row per domain, group and option). */
export async function up(db: Kysely<any>): Promise<void> {
  // value is JSON text (options may be strings, numbers, booleans or null).
  await db.schema
    .createTable('domain_configs')
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('option_name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('sensitive', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('domain_configs_pk', ['domain_id', 'group_name', 'option_name'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('domain_configs').execute();
}
