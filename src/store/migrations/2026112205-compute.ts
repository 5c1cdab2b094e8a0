import type { Kysely } from 'kysely';

/**
 * Nova's model: flavors, keypairs, quotas and usages, services and compute nodes (placement inventory),
 * instances with their actions, server groups, aggregates, migrations, and the host task queue.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('compute_flavors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('root_gb', 'integer', (c) => c.notNull())
    .addColumn('ephemeral_gb', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('swap', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rxtx_factor', 'real', (c) => c.notNull().defaultTo(1))
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('description', 'text')
    .addColumn('extra_specs', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await s
    .createTable('compute_flavor_projects')
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_flavor_projects_pk', ['flavor_id', 'project_id'])
    .execute();
  await s
    .createTable('compute_keypairs')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('compute_keypairs_user_name', ['user_id', 'name'])
    .execute();
  // scope: 'project' (target = project id) or 'class' (target = quota class name, "default").
  await s
    .createTable('compute_quotas')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_quotas_pk', ['scope', 'target', 'resource'])
    .execute();
  // One row per project: the lock that serializes quota checks, and the counters they read.
  await s
    .createTable('compute_usages')
    .addColumn('project_id', 'text', (c) => c.primaryKey())
    .addColumn('instances', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cores', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ram', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('compute_services')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('binary', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_reason', 'text')
    .addColumn('forced_down', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .addUniqueConstraint('compute_services_binary_host', ['binary', 'host'])
    .execute();
  // A hypervisor and its inventory; usage columns are changed only by atomic conditional updates.
  await s
    .createTable('compute_nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull().unique())
    .addColumn('hypervisor_hostname', 'text', (c) => c.notNull())
    .addColumn('hypervisor_type', 'text', (c) => c.notNull())
    .addColumn('hypervisor_version', 'integer', (c) => c.notNull().defaultTo(1000))
    .addColumn('host_ip', 'text', (c) => c.notNull())
    .addColumn('cpu_info', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('local_gb', 'integer', (c) => c.notNull())
    .addColumn('vcpus_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('memory_mb_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('local_gb_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('running_vms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cpu_allocation_ratio', 'real', (c) => c.notNull())
    .addColumn('ram_allocation_ratio', 'real', (c) => c.notNull())
    .addColumn('disk_allocation_ratio', 'real', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('compute_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('image_ref', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('flavor_id', 'text', (c) => c.notNull())
    .addColumn('flavor', 'text', (c) => c.notNull())
    .addColumn('old_flavor', 'text')
    .addColumn('new_flavor', 'text')
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('root_gb', 'integer', (c) => c.notNull())
    .addColumn('vm_state', 'text', (c) => c.notNull())
    .addColumn('task_state', 'text')
    .addColumn('power_state', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('host', 'text')
    .addColumn('node', 'text')
    .addColumn('availability_zone', 'text')
    .addColumn('requested_az', 'text')
    .addColumn('key_name', 'text')
    .addColumn('key_data', 'text')
    .addColumn('user_data', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('system_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('security_groups', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('requested_networks', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('ports', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('block_devices', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('config_drive', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('access_ip_v4', 'text')
    .addColumn('access_ip_v6', 'text')
    .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_by', 'text')
    .addColumn('locked_reason', 'text')
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('fault', 'text')
    .addColumn('launch_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reservation_id', 'text', (c) => c.notNull())
    .addColumn('server_group_id', 'text')
    .addColumn('launched_at', 'text')
    .addColumn('terminated_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deleted_at', 'text')
    .execute();
  await s
    .createIndex('compute_instances_project')
    .on('compute_instances')
    .columns(['project_id', 'deleted', 'created_at'])
    .execute();
  await s
    .createIndex('compute_instances_list')
    .on('compute_instances')
    .columns(['deleted', 'created_at', 'id'])
    .execute();
  await s.createIndex('compute_instances_host').on('compute_instances').column('host').execute();
  await s
    .createTable('compute_instance_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('finish_time', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createIndex('compute_instance_actions_instance')
    .on('compute_instance_actions')
    .columns(['instance_id', 'start_time'])
    .execute();
  await s
    .createTable('compute_instance_action_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('host', 'text')
    .addColumn('result', 'text')
    .addColumn('traceback', 'text')
    .addColumn('details', 'text')
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('finish_time', 'text')
    .execute();
  await s
    .createIndex('compute_instance_action_events_action')
    .on('compute_instance_action_events')
    .column('action_id')
    .execute();
  await s
    .createTable('compute_server_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('compute_server_group_members')
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_server_group_members_pk', ['group_id', 'instance_id'])
    .execute();
  await s
    .createTable('compute_aggregates')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('availability_zone', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .execute();
  await s
    .createTable('compute_aggregate_hosts')
    .addColumn('aggregate_id', 'integer', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_aggregate_hosts_pk', ['aggregate_id', 'host'])
    .execute();
  await s
    .createTable('compute_migrations')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('migration_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('source_compute', 'text')
    .addColumn('dest_compute', 'text')
    .addColumn('source_node', 'text')
    .addColumn('dest_node', 'text')
    .addColumn('dest_host', 'text')
    .addColumn('old_flavor_id', 'text')
    .addColumn('new_flavor_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('compute_migrations_instance').on('compute_migrations').column('instance_id').execute();
  // Work for a host; its agent claims rows (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer).
  await s
    .createTable('compute_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('compute_tasks_claim').on('compute_tasks').columns(['state', 'host', 'seq']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'compute_tasks',
    'compute_migrations',
    'compute_aggregate_hosts',
    'compute_aggregates',
    'compute_server_group_members',
    'compute_server_groups',
    'compute_instance_action_events',
    'compute_instance_actions',
    'compute_instances',
    'compute_nodes',
    'compute_services',
    'compute_usages',
    'compute_quotas',
    'compute_keypairs',
    'compute_flavor_projects',
    'compute_flavors',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
