// The nftables firewall: remembers what it applied (ports, their numbers, group rules, remote-set members) so
// each change becomes one small atomic batch. The kernel state only changes through `run`; the memory only after
// `run` succeeded, so a refused batch leaves both as they were (a later `sync` repairs any drift).
import { Batch, MAX_PORT_INDEX, isFiltered, memberAddresses } from './compile.js';
import type { NftRunner } from './nft.js';
import type { Firewall, SgPort, SgRule } from './types.js';

interface Applied {
  port: SgPort;
  /** The port's number in marks and chain names; 0 when the port is not filtered. */
  idx: number;
}

/** Counts, per group and address, how many ports make that address a member (two ports may share one). */
class Members {
  private readonly counts = new Map<string, Map<string, number>>();

  /** The addresses whose count goes 0 → 1 (`add`) or 1 → 0 (`delete`) for these changes; changes nothing. */
  plan(changes: { groupId: string; addr: { family: 4 | 6; addr: string }; delta: 1 | -1 }[]): Map<string, { add: { family: 4 | 6; addr: string }[]; del: { family: 4 | 6; addr: string }[] }> {
    const net = new Map<string, { g: string; a: { family: 4 | 6; addr: string }; d: number }>();
    for (const c of changes) {
      const key = `${c.groupId}|${c.addr.addr}`;
      const cur = net.get(key) ?? { g: c.groupId, a: c.addr, d: 0 };
      cur.d += c.delta;
      net.set(key, cur);
    }
    const out = new Map<string, { add: { family: 4 | 6; addr: string }[]; del: { family: 4 | 6; addr: string }[] }>();
    for (const { g, a, d } of net.values()) {
      if (d === 0) continue;
      const before = this.counts.get(g)?.get(a.addr) ?? 0;
      const after = before + d;
      const entry = out.get(g) ?? { add: [], del: [] };
      if (before === 0 && after > 0) entry.add.push(a);
      else if (before > 0 && after <= 0) entry.del.push(a);
      out.set(g, entry);
    }
    return out;
  }

  apply(changes: { groupId: string; addr: { family: 4 | 6; addr: string }; delta: 1 | -1 }[]): void {
    for (const c of changes) {
      const m = this.counts.get(c.groupId) ?? new Map<string, number>();
      const n = (m.get(c.addr.addr) ?? 0) + c.delta;
      if (n > 0) m.set(c.addr.addr, n);
      else m.delete(c.addr.addr);
      if (m.size) this.counts.set(c.groupId, m);
      else this.counts.delete(c.groupId);
    }
  }

  clear(): void {
    this.counts.clear();
  }
}

function membershipChanges(port: SgPort | undefined, delta: 1 | -1): { groupId: string; addr: { family: 4 | 6; addr: string }; delta: 1 | -1 }[] {
  if (!port) return [];
  const addrs = memberAddresses(port);
  return [...new Set(port.securityGroups)].flatMap((groupId) => addrs.map((addr) => ({ groupId, addr, delta })));
}

export class NftFirewall implements Firewall {
  private ports = new Map<string, Applied>();
  private rules = new Map<string, SgRule[]>();
  /** Groups whose chains and sets exist in the kernel. */
  private declared = new Set<string>();
  private readonly members = new Members();
  private tail: Promise<unknown> = Promise.resolve();
  /** Whether this object made the tables (by `sync` or a first change); chains left by an earlier process are not trusted. */
  private initialized = false;

  constructor(readonly table: string, private readonly run: NftRunner, private readonly log: (msg: string) => void) {
    new Batch(table); // validates the name now rather than at the first change
  }

  /** Runs operations one at a time, in call order; a failed one does not stop the next. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => {});
    return next;
  }

  /**
   * Runs an incremental batch. The first one after start (when the driver changes something before its first
   * `sync`) recreates the tables, so it never writes into chains an earlier process numbered differently.
   */
  private async apply(batch: Batch): Promise<void> {
    if (!batch.lines.length) return;
    if (!this.initialized) {
      const fresh = new Batch(this.table).recreateTables();
      for (const g of this.declared) fresh.declareGroup(g);
      fresh.lines.push(...batch.lines);
      await this.run(fresh.text());
      this.initialized = true;
      return;
    }
    await this.run(batch.text());
  }

  private reportSkipped(skipped: { rule: SgRule; why: string }[]): void {
    for (const s of skipped) this.log(`firewall: rule ${s.rule.id} of group ${s.rule.security_group_id} never matches (${s.why}); left out`);
  }

  private freeIndex(taken: Iterable<number>): number {
    const used = new Set(taken);
    for (let i = 1; i <= MAX_PORT_INDEX; i++) if (!used.has(i)) return i;
    throw new Error(`firewall: more than ${MAX_PORT_INDEX} filtered ports on one host`);
  }

  sync(ports: SgPort[], rules: SgRule[]): Promise<void> {
    return this.serial(async () => {
      const byGroup = new Map<string, SgRule[]>();
      for (const r of rules) byGroup.set(r.security_group_id, [...(byGroup.get(r.security_group_id) ?? []), r]);
      const groups = new Set<string>(byGroup.keys());
      for (const p of ports) for (const g of p.securityGroups) groups.add(g);
      for (const r of rules) if (r.remote_group_id) groups.add(r.remote_group_id);

      const batch = new Batch(this.table).recreateTables();
      for (const g of groups) batch.declareGroup(g);
      const skipped = [...byGroup].flatMap(([g, list]) => batch.groupRules(g, list));

      // Keep a port's number across resyncs when it can (readable diffs in `nft list`), else take a free one.
      const next = new Map<string, Applied>();
      const kept = new Set<number>();
      for (const p of ports) {
        const old = this.ports.get(p.id);
        if (isFiltered(p) && old && old.idx && !kept.has(old.idx)) { next.set(p.id, { port: p, idx: old.idx }); kept.add(old.idx); }
      }
      for (const p of ports) {
        if (next.has(p.id)) continue;
        const idx = isFiltered(p) ? this.freeIndex(kept) : 0;
        if (idx) kept.add(idx);
        next.set(p.id, { port: p, idx });
      }
      for (const a of next.values()) if (a.idx) batch.addPort(a.port, a.idx);

      const fresh = new Members();
      const changes = [...next.values()].flatMap((a) => membershipChanges(a.port, 1));
      for (const [g, { add }] of fresh.plan(changes)) batch.members('add', g, add);

      await this.run(batch.text());
      this.initialized = true;
      this.reportSkipped(skipped);
      this.ports = next;
      this.rules = byGroup;
      this.declared = groups;
      this.members.clear();
      this.members.apply(changes);
    });
  }

  upsertPort(port: SgPort): Promise<void> {
    return this.serial(async () => {
      const old = this.ports.get(port.id);
      const batch = new Batch(this.table);
      const newGroups = port.securityGroups.filter((g) => !this.declared.has(g));
      for (const g of newGroups) batch.declareGroup(g);

      let idx = 0;
      if (isFiltered(port)) {
        idx = old?.idx || this.freeIndex([...this.ports.values()].map((a) => a.idx));
        if (old?.idx && old.port.tap !== port.tap) batch.removePort(old.port.tap, old.idx);
        batch.addPort(port, idx);
      } else if (old?.idx) {
        batch.removePort(old.port.tap, old.idx);
      }

      // Member groups are the old port's (declared when it was added) and the new port's (declared above).
      const changes = [...membershipChanges(old?.port, -1), ...membershipChanges(port, 1)];
      for (const [g, { add, del }] of this.members.plan(changes)) batch.members('delete', g, del).members('add', g, add);

      await this.apply(batch);
      for (const g of newGroups) this.declared.add(g);
      this.members.apply(changes);
      this.ports.set(port.id, { port, idx });
    });
  }

  removePort(portId: string): Promise<void> {
    return this.serial(async () => {
      const old = this.ports.get(portId);
      if (!old) return;
      const batch = new Batch(this.table);
      if (old.idx) batch.removePort(old.port.tap, old.idx);
      const changes = membershipChanges(old.port, -1);
      for (const [g, { del }] of this.members.plan(changes)) batch.members('delete', g, del);
      await this.apply(batch);
      this.members.apply(changes);
      this.ports.delete(portId);
    });
  }

  setGroupRules(groupId: string, rules: SgRule[]): Promise<void> {
    return this.serial(async () => {
      const batch = new Batch(this.table);
      const toDeclare = new Set<string>([groupId]);
      for (const r of rules) if (r.remote_group_id) toDeclare.add(r.remote_group_id);
      for (const g of toDeclare) if (!this.declared.has(g)) batch.declareGroup(g);
      const skipped = batch.groupRules(groupId, rules);
      await this.apply(batch);
      this.reportSkipped(skipped);
      for (const g of toDeclare) this.declared.add(g);
      if (rules.length) this.rules.set(groupId, rules);
      else this.rules.delete(groupId);
    });
  }

  destroy(): Promise<void> {
    return this.serial(async () => {
      await this.run(new Batch(this.table).dropTables().text());
      this.initialized = false;
      this.ports.clear();
      this.rules.clear();
      this.declared.clear();
      this.members.clear();
    });
  }
}
