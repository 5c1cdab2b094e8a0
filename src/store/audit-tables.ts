/** One state-changing API call (append-only; see migrations/2026120713-audit.ts). */
export interface AuditEventsTable {
  id: string;
  created_at: string;
  request_id: string;
  user_id: string | null;
  user_name: string | null;
  project_id: string | null;
  domain_id: string | null;
  /** Catalog type of the service called (identity, compute, network, ...), or "gureum" for Gureum's own routes. */
  service: string;
  method: string;
  /** The route template with the service prefix (`/compute/v2.1/servers/:id/action`), never the raw query string. */
  route: string;
  target_id: string | null;
  /** The policy rule the call was checked against (`compute:os-pause-server:pause`), null for unknown routes. */
  action: string | null;
  status: number;
  duration_ms: number;
  remote_addr: string | null;
}

export interface AuditTables {
  audit_events: AuditEventsTable;
}
