import type { NetDriver, NetEvent, NetAction, NetObjectKind, NetState } from './driver.js';
import { NoopNetDriver } from './noop.js';
import { LinuxBridgeDriver, type LinuxBridgeOptions } from './linuxbridge/index.js';

// The driver contract, re-exported from where it is declared.
export type {
  AgentKind,
  AgentReport,
  MeteringCounter,
  NetAction,
  NetDriver,
  NetEvent,
  NetObjectKind,
  NetState,
  PortStatusReport,
} from './driver.js';
export { NoopNetDriver, LinuxBridgeDriver, type LinuxBridgeOptions };
export { tapName, netStateDir, type PhysnetMapping } from './linuxbridge/index.js';
export { createNftFirewall } from './linuxbridge/firewall/index.js';
export { chooseDataPlane, type DataPlaneChoice, type DataPlaneSetting } from './data-plane.js';

/** Driver constructors by name; `linuxbridge` needs its options. */
const drivers: Record<string, (opts?: LinuxBridgeOptions) => NetDriver> = {
  noop: () => new NoopNetDriver(),
  linuxbridge: (opts) => {
    if (!opts) throw new Error('the linuxbridge driver needs its options');
    return new LinuxBridgeDriver(opts);
  },
};

/** Builds the named data-plane driver. */
export function createNetDriver(name: string, opts?: LinuxBridgeOptions): NetDriver {
  const make = drivers[name];
  if (!make) throw new Error(`unknown network driver "${name}" (have: ${Object.keys(drivers).join(', ')})`);
  return make(opts);
}

/**
 * Delivers events to one driver in order, one at a time, so a slow driver never sees two changes of the same
 * object interleaved. Errors are handed to `onError` and do not stop later events.
 */
export class NetDispatcher {
  private seq = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly driver: NetDriver,
    private readonly onError: (e: unknown, ev: NetEvent) => void = () => {},
  ) {}

  /** Queues one event; the returned promise settles when the driver has handled it (never rejects). */
  publish(kind: NetObjectKind, action: NetAction, object: Record<string, unknown>): Promise<void> {
    const event: NetEvent = { kind, action, id: String(object.id), object, seq: ++this.seq };
    this.tail = this.tail.then(() => this.driver.apply(event)).catch((e) => this.onError(e, event));
    return this.tail;
  }

  /** Hands an error that happened beside an event (e.g. making a DHCP port) to the same error sink. */
  report(e: unknown): void {
    this.onError(e, { kind: 'network', action: 'updated', id: '*', object: {}, seq: 0 });
  }

  /** Waits until every queued event was handled. */
  drain(): Promise<void> {
    return this.tail;
  }

  /** Runs a full resync after the queue drains. */
  resync(state: NetState): Promise<void> {
    this.tail = this.tail
      .then(() => this.driver.resync(state))
      .catch((e) => this.onError(e, { kind: 'network', action: 'updated', id: '*', object: {}, seq: 0 }));
    return this.tail;
  }
}
