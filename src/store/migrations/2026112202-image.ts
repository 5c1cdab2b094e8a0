import type { Kysely } from 'kysely';

/** Glance's model: images with properties, tags, members and import tasks; metadata definitions. */
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('images')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('owner', 'text')
    .addColumn('disk_format', 'text')
    .addColumn('container_format', 'text')
    .addColumn('size', 'bigint')
    .addColumn('virtual_size', 'bigint')
    .addColumn('checksum', 'text')
    .addColumn('os_hash_algo', 'text')
    .addColumn('os_hash_value', 'text')
    .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('stores', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('staged_size', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('images_owner').on('images').column('owner').execute();
  await s.createIndex('images_visibility').on('images').column('visibility').execute();
  await s.createIndex('images_created').on('images').columns(['created_at', 'id']).execute();
  await s
    .createTable('image_properties')
    .addColumn('image_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_properties_pk', ['image_id', 'name'])
    .execute();
  await s.createIndex('image_properties_name').on('image_properties').columns(['name', 'value']).execute();
  await s
    .createTable('image_tags')
    .addColumn('image_id', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tags_pk', ['image_id', 'tag'])
    .execute();
  await s.createIndex('image_tags_tag').on('image_tags').column('tag').execute();
  await s
    .createTable('image_members')
    .addColumn('image_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_members_pk', ['image_id', 'member_id'])
    .execute();
  await s.createIndex('image_members_member').on('image_members').column('member_id').execute();
  await s
    .createTable('image_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('image_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('user_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('input', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('result', 'text')
    .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .execute();
  await s.createIndex('image_tasks_image').on('image_tasks').column('image_id').execute();

  await s
    .createTable('metadef_namespaces')
    .addColumn('namespace', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text')
    .addColumn('description', 'text')
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('owner', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('metadef_resource_types')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('metadef_ns_resource_types')
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text')
    .addColumn('properties_target', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('metadef_ns_rt_pk', ['namespace', 'resource_type'])
    .execute();
  for (const t of ['metadef_objects', 'metadef_properties']) {
    await s
      .createTable(t)
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${t}_pk`, ['namespace', 'name'])
      .execute();
  }
  await s
    .createTable('metadef_tags')
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('metadef_tags_pk', ['namespace', 'name'])
    .execute();
  // The resource types Glance's shipped definitions know, so namespaces can be associated with them.
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const types = [
    'OS::Glance::Image',
    'OS::Cinder::Volume',
    'OS::Nova::Flavor',
    'OS::Nova::Aggregate',
    'OS::Nova::Server',
    'OS::Trove::Instance',
    'OS::Glance::Metadef',
  ];
  await db
    .insertInto('metadef_resource_types')
    .values(types.map((name) => ({ name, protected: 1, created_at: now, updated_at: now })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'metadef_tags',
    'metadef_properties',
    'metadef_objects',
    'metadef_ns_resource_types',
    'metadef_resource_types',
    'metadef_namespaces',
    'image_tasks',
    'image_members',
    'image_tags',
    'image_properties',
    'images',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
