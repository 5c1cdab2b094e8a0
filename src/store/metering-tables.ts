/** Row types of migrations/2026120707-network-metering.ts. */
export interface NetMeteringLabelRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  /** 0/1: a shared label meters the routers of every project. */
  shared: number;
  created_at: string;
}

export interface NetMeteringLabelRuleRow {
  id: string;
  label_id: string;
  /** ingress (into the router from its gateway) or egress (out through the gateway). */
  direction: string;
  remote_ip_prefix: string | null;
  source_ip_prefix: string | null;
  destination_ip_prefix: string | null;
  /** 0/1: traffic matching an excluded rule is not counted by the label's other rules. */
  excluded: number;
  created_at: string;
}

export interface MeteringTables {
  net_metering_labels: NetMeteringLabelRow;
  net_metering_label_rules: NetMeteringLabelRuleRow;
}
