// Neutron's agents and their scheduler bindings (migration 2026120710-network-agents).

export interface NetAgentRow {
  id: string;
  agent_type: string;
  binary: string;
  topic: string;
  host: string;
  availability_zone: string | null;
  admin_state_up: number;
  description: string | null;
  /** JSON: what the agent reported it runs. */
  configurations: string;
  created_at: string;
  started_at: string;
  heartbeat_at: string;
}

export interface NetAgentNetworkRow {
  agent_id: string;
  network_id: string;
}

export interface NetAgentRouterRow {
  agent_id: string;
  router_id: string;
}

export interface NetworkAgentTables {
  net_agents: NetAgentRow;
  net_agent_networks: NetAgentNetworkRow;
  net_agent_routers: NetAgentRouterRow;
}
