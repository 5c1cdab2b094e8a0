import type { Kysely } from 'kysely';

/** Block storage (Cinder v3): volumes, snapshots, volume types and their access, quotas, attachments. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('volume_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('extra_specs', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('qos_specs_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema
    .createTable('volume_type_access')
    .addColumn('volume_type_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('volume_type_access_pk', ['volume_type_id', 'project_id'])
    .execute();
  await db.schema
    .createTable('volume_volumes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attach_status', 'text', (c) => c.notNull().defaultTo('detached'))
    .addColumn('migration_status', 'text')
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('volume_type_id', 'text', (c) => c.notNull())
    .addColumn('snapshot_id', 'text')
    .addColumn('source_volid', 'text')
    .addColumn('image_id', 'text')
    .addColumn('bootable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('readonly', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('multiattach', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('image_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('disk_format', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema
    .createIndex('volume_volumes_project')
    .on('volume_volumes')
    .columns(['project_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('volume_snapshots')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('volume_id', 'text', (c) => c.notNull())
    .addColumn('volume_type_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('progress', 'text', (c) => c.notNull().defaultTo('0%'))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema.createIndex('volume_snapshots_volume').on('volume_snapshots').column('volume_id').execute();
  await db.schema
    .createIndex('volume_snapshots_project')
    .on('volume_snapshots')
    .columns(['project_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('volume_quotas')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('volume_quotas_pk', ['project_id', 'resource'])
    .execute();
  await db.schema
    .createTable('volume_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('volume_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text')
    .addColumn('host_name', 'text')
    .addColumn('device', 'text')
    .addColumn('attach_status', 'text', (c) => c.notNull())
    .addColumn('attach_mode', 'text', (c) => c.notNull().defaultTo('rw'))
    .addColumn('connector', 'text')
    .addColumn('attached_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await db.schema.createIndex('volume_attachments_volume').on('volume_attachments').column('volume_id').execute();
  await db.schema.createIndex('volume_attachments_instance').on('volume_attachments').column('instance_id').execute();
  await db.schema
    .createTable('volume_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_uuid', 'text')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('message_level', 'text', (c) => c.notNull())
    .addColumn('user_message', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('request_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('volume_messages_project')
    .on('volume_messages')
    .columns(['project_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'volume_messages',
    'volume_attachments',
    'volume_quotas',
    'volume_snapshots',
    'volume_volumes',
    'volume_type_access',
    'volume_types',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
