// The data-plane interface: what the networking service tells a driver (bridges, taps, routers, firewalls) to make
// true.

/** The kinds of logical objects a data plane realizes. */
export type NetObjectKind = 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group';

/** What happened to an object. `bound` is a port given to a host (binding:host_id set). */
export type NetAction = 'created' | 'updated' | 'bound' | 'deleted';

/**
 * One change for a driver. `object` is the full desired state after the change (for `deleted`, the last state),
 * so a driver never needs to read the database to act, and applying the same event twice changes nothing.
 */
export interface NetEvent {
  kind: NetObjectKind;
  action: NetAction;
  id: string;
  /** The object as the API shows it to an admin (ports carry fixed_ips, routers their interfaces). */
  object: Record<string, unknown>;
  /** Monotonic sequence number within this process, for ordering and logs. */
  seq: number;
}

/** Everything a driver must realize: the whole logical state, read from the database. */
export interface NetState {
  networks: Record<string, unknown>[];
  subnets: Record<string, unknown>[];
  ports: Record<string, unknown>[];
  routers: Record<string, unknown>[];
  floatingips: Record<string, unknown>[];
  security_groups: Record<string, unknown>[];
}

/** What a driver reports about a port it wired (or failed to): the port's status and binding fields follow it. */
export interface PortStatusReport {
  portId: string;
  status: 'ACTIVE' | 'DOWN';
  /** binding:vif_type: "bridge" when wired, "binding_failed" when it cannot be. */
  vifType: string;
  /** binding:vif_details; a failure carries its reason under `reason`. */
  vifDetails: Record<string, unknown>;
}

/** The parts of a data plane Neutron shows as agents. */
export type AgentKind = 'l2' | 'dhcp' | 'l3' | 'metadata';

/** One part's heartbeat: what runs on this host right now (Neutron's agent `configurations`). */
export interface AgentReport {
  kind: AgentKind;
  host: string;
  configurations: Record<string, unknown>;
}

/** One metering label's counter on one router (Neutron's metering extension, counted by the data plane). */
export interface MeteringCounter {
  labelId: string;
  routerId: string;
  bytes: number;
  packets: number;
}

/**
 * A data-plane driver. Implementations must be idempotent (an event may be delivered again after a crash) and
 * must converge on `resync` (called at start with the state from the database: create what is missing, remove
 * what is no longer wanted). Failures are reported by throwing; the service logs them and keeps the API answer.
 */
export interface NetDriver {
  /** Registry name, e.g. "noop", "linuxbridge". */
  readonly name: string;
  /** Applies one change. */
  apply(event: NetEvent): Promise<void>;
  /** Makes the data plane match the whole state (after a restart). */
  resync(state: NetState): Promise<void>;
  /** Releases resources held by the driver process (not the data plane itself). */
  close(): Promise<void>;
  /** True when the driver sets port status itself: bound ports start DOWN and go ACTIVE once wired. */
  readonly reportsPortStatus?: boolean;
  /** True when the driver serves DHCP from a network:dhcp port per network (the service creates that port). */
  readonly wantsDhcpPorts?: boolean;
  /** The service hands the driver the way to record a port's status; called once, before any event. */
  onPortStatus?(report: (r: PortStatusReport) => Promise<void>): void;
  /** The agents this driver runs on this host and what each serves; absent: it runs none (QEMU user networking). */
  agentReports?(): Promise<AgentReport[]>;
  /** Reads the metering labels' counters of every router on this host (drivers that meter traffic). */
  readMeteringCounters?(): Promise<MeteringCounter[]>;
}
