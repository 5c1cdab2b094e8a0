import type { Kysely } from 'kysely';

/** Keystone's OS-EP-FILTER (endpoint groups, project-endpoint associations) and OS-OAUTH1 consumers. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('endpoint_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('filters', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .createTable('project_endpoint_groups')
    .addColumn('endpoint_group_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_endpoint_groups_pk', ['endpoint_group_id', 'project_id'])
    .execute();
  await db.schema
    .createTable('project_endpoints')
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_endpoints_pk', ['endpoint_id', 'project_id'])
    .execute();
  await db.schema
    .createTable('oauth_consumers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['oauth_consumers', 'project_endpoints', 'project_endpoint_groups', 'endpoint_groups'])
    await db.schema.dropTable(t).execute();
}
