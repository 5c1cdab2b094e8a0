import type { NetDriver, NetEvent, NetState } from './driver.js';

/**
 * A data plane that does nothing but remember: every event in order, and the objects it would have realized
 * (the "realized" maps show what an idempotent driver converges to). For API tests and benchmarks.
 */
export class NoopNetDriver implements NetDriver {
  readonly name = 'noop';
  /** Every event received, oldest first (bounded, so a long benchmark does not grow without end). */
  readonly events: NetEvent[] = [];
  /** Per kind, the objects currently realized, by id. */
  readonly realized = new Map<string, Map<string, Record<string, unknown>>>();
  /** How many resyncs ran. */
  resyncs = 0;

  constructor(private readonly maxEvents = 10_000) {}

  async apply(event: NetEvent): Promise<void> {
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    const bucket = this.bucket(event.kind);
    if (event.action === 'deleted') bucket.delete(event.id);
    else bucket.set(event.id, event.object);
  }

  async resync(state: NetState): Promise<void> {
    this.resyncs++;
    const kinds: [string, Record<string, unknown>[]][] = [
      ['network', state.networks],
      ['subnet', state.subnets],
      ['port', state.ports],
      ['router', state.routers],
      ['floatingip', state.floatingips],
      ['security_group', state.security_groups],
    ];
    for (const [kind, objects] of kinds) {
      const bucket = this.bucket(kind);
      bucket.clear();
      for (const o of objects) bucket.set(String(o.id), o);
    }
  }

  async close(): Promise<void> {}

  /** Events of one kind and action, e.g. `ofKind('port', 'bound')`. */
  ofKind(kind: string, action?: string): NetEvent[] {
    return this.events.filter((e) => e.kind === kind && (!action || e.action === action));
  }

  private bucket(kind: string): Map<string, Record<string, unknown>> {
    let b = this.realized.get(kind);
    if (!b) this.realized.set(kind, (b = new Map()));
    return b;
  }
}
