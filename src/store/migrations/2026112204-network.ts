import type { Kysely, CreateTableBuilder } from 'kysely';

/** Adds the standard-attribute columns (id, project, name, description, timestamps, revision). */
function standard<T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, never> {
  return t
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0));
}

/** Neutron's model: networks, subnets, ports with their IP allocations, routers, floating IPs, security groups. */
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await standard(s.createTable('net_networks'))
    .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('router_external', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mtu', 'integer', (c) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('network_type', 'text', (c) => c.notNull())
    .addColumn('physical_network', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('segmentation_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('dns_domain', 'text', (c) => c.notNull().defaultTo(''))
    // One network per segment: a VNI, a VLAN on a physnet, or a whole flat physnet.
    .addUniqueConstraint('net_networks_segment', ['network_type', 'physical_network', 'segmentation_id'])
    .execute();
  await s.createIndex('net_networks_project').on('net_networks').column('project_id').execute();

  await standard(s.createTable('net_subnets'))
    .addColumn('network_id', 'text', (c) => c.notNull())
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('gateway_ip', 'text')
    .addColumn('enable_dhcp', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('ipv6_ra_mode', 'text')
    .addColumn('ipv6_address_mode', 'text')
    .addColumn('subnetpool_id', 'text')
    .addColumn('dns_nameservers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('host_routes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('allocation_pools', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('service_types', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('dns_publish_fixed_ip', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await s.createIndex('net_subnets_network').on('net_subnets').column('network_id').execute();

  await standard(s.createTable('net_ports'))
    .addColumn('network_id', 'text', (c) => c.notNull())
    .addColumn('mac_address', 'text', (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('device_owner', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('binding_host_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('binding_vif_type', 'text', (c) => c.notNull().defaultTo('unbound'))
    .addColumn('binding_vnic_type', 'text', (c) => c.notNull().defaultTo('normal'))
    .addColumn('binding_profile', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('binding_vif_details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('allowed_address_pairs', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('dns_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('propagate_uplink_status', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('net_ports_network_mac', ['network_id', 'mac_address'])
    .execute();
  await s.createIndex('net_ports_device').on('net_ports').column('device_id').execute();
  await s.createIndex('net_ports_project').on('net_ports').column('project_id').execute();

  await s
    .createTable('net_ip_allocations')
    .addColumn('subnet_id', 'text', (c) => c.notNull())
    .addColumn('ip_key', 'text', (c) => c.notNull())
    .addColumn('ip_address', 'text', (c) => c.notNull())
    .addColumn('port_id', 'text', (c) => c.notNull())
    .addColumn('network_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_ip_allocations_pk', ['subnet_id', 'ip_key'])
    .execute();
  await s.createIndex('net_ip_allocations_port').on('net_ip_allocations').column('port_id').execute();

  await s
    .createTable('net_port_security_groups')
    .addColumn('port_id', 'text', (c) => c.notNull())
    .addColumn('security_group_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_port_security_groups_pk', ['port_id', 'security_group_id'])
    .execute();
  await s.createIndex('net_port_sg_group').on('net_port_security_groups').column('security_group_id').execute();

  await standard(s.createTable('net_routers'))
    .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('gw_network_id', 'text')
    .addColumn('gw_port_id', 'text')
    .addColumn('enable_snat', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('routes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('distributed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ha', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();

  await standard(s.createTable('net_floating_ips'))
    .addColumn('floating_network_id', 'text', (c) => c.notNull())
    .addColumn('floating_ip_address', 'text', (c) => c.notNull())
    .addColumn('floating_port_id', 'text', (c) => c.notNull())
    .addColumn('port_id', 'text')
    .addColumn('fixed_ip_address', 'text')
    .addColumn('router_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('net_floating_ips_port').on('net_floating_ips').column('port_id').execute();

  await s
    .createTable('net_port_forwardings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('floatingip_id', 'text', (c) => c.notNull())
    .addColumn('internal_port_id', 'text', (c) => c.notNull())
    .addColumn('internal_ip_address', 'text', (c) => c.notNull())
    .addColumn('internal_port', 'integer', (c) => c.notNull())
    .addColumn('internal_port_range_max', 'integer', (c) => c.notNull())
    .addColumn('external_port', 'integer', (c) => c.notNull())
    .addColumn('external_port_range_max', 'integer', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addUniqueConstraint('net_port_forwardings_external', ['floatingip_id', 'external_port', 'protocol'])
    .execute();

  await standard(s.createTable('net_security_groups'))
    .addColumn('stateful', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await s.createIndex('net_security_groups_project').on('net_security_groups').column('project_id').execute();
  await s
    .createTable('net_security_group_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('security_group_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('ethertype', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text')
    .addColumn('port_range_min', 'integer')
    .addColumn('port_range_max', 'integer')
    .addColumn('remote_ip_prefix', 'text')
    .addColumn('remote_group_id', 'text')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await s.createIndex('net_sg_rules_group').on('net_security_group_rules').column('security_group_id').execute();
  await s
    .createTable('net_default_security_groups')
    .addColumn('project_id', 'text', (c) => c.primaryKey())
    .addColumn('security_group_id', 'text', (c) => c.notNull())
    .execute();

  await standard(s.createTable('net_subnet_pools'))
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('prefixes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('default_quota', 'integer')
    .addColumn('address_scope_id', 'text')
    .execute();

  await s
    .createTable('net_quotas')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_quotas_pk', ['project_id', 'resource'])
    .execute();

  await s
    .createTable('net_tags')
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_tags_pk', ['resource_id', 'tag'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'net_tags',
    'net_quotas',
    'net_subnet_pools',
    'net_default_security_groups',
    'net_security_group_rules',
    'net_security_groups',
    'net_port_forwardings',
    'net_floating_ips',
    'net_routers',
    'net_port_security_groups',
    'net_ip_allocations',
    'net_ports',
    'net_subnets',
    'net_networks',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
