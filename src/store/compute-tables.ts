/** Row types of Nova's tables (see migrations/2026112205-compute.ts). Booleans are 0/1; JSON is text. */
export interface FlavorRow {
  id: string;
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  extra_specs: string;
  created_at: string;
  updated_at: string | null;
}
export interface FlavorProjectRow {
  flavor_id: string;
  project_id: string;
}
export interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
}
export interface ComputeQuotaRow {
  scope: 'project' | 'class';
  target: string;
  resource: string;
  hard_limit: number;
}
export interface ComputeUsageRow {
  project_id: string;
  instances: number;
  cores: number;
  ram: number;
  updated_at: string;
}
export interface ComputeServiceRow {
  id: string;
  binary: string;
  host: string;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  last_seen_at: string;
  created_at: string;
  updated_at: string | null;
}
export interface ComputeNodeRow {
  id: string;
  seq: number;
  host: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string;
  cpu_info: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  created_at: string;
  updated_at: string;
}
export interface InstanceRow {
  id: string;
  seq: number;
  name: string;
  hostname: string;
  description: string | null;
  project_id: string;
  user_id: string;
  image_ref: string;
  flavor_id: string;
  flavor: string;
  old_flavor: string | null;
  new_flavor: string | null;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  requested_az: string | null;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  metadata: string;
  system_metadata: string;
  tags: string;
  security_groups: string;
  requested_networks: string;
  ports: string;
  block_devices: string;
  config_drive: number;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  progress: number;
  fault: string | null;
  launch_index: number;
  reservation_id: string;
  server_group_id: string | null;
  launched_at: string | null;
  terminated_at: string | null;
  created_at: string;
  updated_at: string;
  deleted: number;
  deleted_at: string | null;
}
export interface InstanceActionRow {
  id: string;
  instance_id: string;
  action: string;
  request_id: string;
  user_id: string;
  project_id: string;
  message: string | null;
  start_time: string;
  finish_time: string | null;
  updated_at: string;
}
export interface InstanceActionEventRow {
  id: string;
  action_id: string;
  event: string;
  host: string | null;
  result: string | null;
  traceback: string | null;
  details: string | null;
  start_time: string;
  finish_time: string | null;
}
export interface ServerGroupRow {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: string;
  rules: string;
  created_at: string;
}
export interface ServerGroupMemberRow {
  group_id: string;
  instance_id: string;
}
export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  availability_zone: string | null;
  metadata: string;
  created_at: string;
  updated_at: string | null;
}
export interface AggregateHostRow {
  aggregate_id: number;
  host: string;
}
export interface MigrationRow {
  id: number;
  uuid: string;
  instance_id: string;
  project_id: string;
  user_id: string;
  migration_type: string;
  status: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  created_at: string;
  updated_at: string;
}
export interface ComputeTaskRow {
  id: string;
  seq: number;
  host: string;
  kind: string;
  instance_id: string | null;
  payload: string;
  state: string;
  attempts: number;
  claimed_by: string | null;
  claimed_at: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ComputeTables {
  compute_flavors: FlavorRow;
  compute_flavor_projects: FlavorProjectRow;
  compute_keypairs: KeypairRow;
  compute_quotas: ComputeQuotaRow;
  compute_usages: ComputeUsageRow;
  compute_services: ComputeServiceRow;
  compute_nodes: ComputeNodeRow;
  compute_instances: InstanceRow;
  compute_instance_actions: InstanceActionRow;
  compute_instance_action_events: InstanceActionEventRow;
  compute_server_groups: ServerGroupRow;
  compute_server_group_members: ServerGroupMemberRow;
  compute_aggregates: AggregateRow;
  compute_aggregate_hosts: AggregateHostRow;
  compute_migrations: MigrationRow;
  compute_tasks: ComputeTaskRow;
}
