import type { Kysely } from 'kysely';

/**
 * Neutron's agents: the data plane's parts per host (L2, DHCP, L3, metadata) with their heartbeats, and which DHCP
 * agent hosts which network and which L3 agent which router (the dhcp/l3 agent scheduler extensions).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('net_agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_type', 'text', (c) => c.notNull())
    .addColumn('binary', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('availability_zone', 'text')
    .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('description', 'text')
    .addColumn('configurations', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('net_agents_type_host', ['agent_type', 'host'])
    .execute();
  await db.schema
    .createTable('net_agent_networks')
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('network_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_agent_networks_pk', ['agent_id', 'network_id'])
    .execute();
  await db.schema.createIndex('net_agent_networks_network').on('net_agent_networks').column('network_id').execute();
  await db.schema
    .createTable('net_agent_routers')
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('router_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_agent_routers_pk', ['agent_id', 'router_id'])
    .execute();
  await db.schema.createIndex('net_agent_routers_router').on('net_agent_routers').column('router_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('net_agent_routers').execute();
  await db.schema.dropTable('net_agent_networks').execute();
  await db.schema.dropTable('net_agents').execute();
}
