// The nftables firewall: remembers what it applied (ports with their numbers and elements, profiles, group rules
// with their handles, remote-set members) so each change becomes one small atomic batch. The kernel changes only
// through `run`; the memory only after `run` succeeded, so a refused batch leaves both as they were (a later
// `sync` repairs any drift).
import { Batch, diffElements, groupLayout, profileOf, type GroupLayout, type Profile } from './compile.js';
import { MAX_PORT_INDEX, isFiltered, memberAddresses, portElements, type Element } from './port-elements.js';
import type { NftRunner } from './nft.js';
import type { Firewall, SgPort, SgRule } from './types.js';

interface Applied {
  port: SgPort;
  /** The port's number in marks; 0 when the port is not filtered. */
  idx: number;
  profile: Profile | null;
  elements: Element[];
}

type Addr = { family: 4 | 6; addr: string };
type MemberChange = { groupId: string; addr: Addr; delta: 1 | -1 };

/** Counts, per group and address, how many ports make that address a member (two ports may share one). */
class Members {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly families = new Map<string, 4 | 6>();

  /** Per group, the addresses whose count goes 0 → 1 (add) or 1 → 0 (del) with these changes; changes nothing. */
  plan(changes: MemberChange[]): Map<string, { add: Addr[]; del: Addr[] }> {
    const net = new Map<string, { g: string; a: Addr; d: number }>();
    for (const c of changes) {
      const key = `${c.groupId}|${c.addr.addr}`;
      const cur = net.get(key) ?? { g: c.groupId, a: c.addr, d: 0 };
      cur.d += c.delta;
      net.set(key, cur);
    }
    const out = new Map<string, { add: Addr[]; del: Addr[] }>();
    for (const { g, a, d } of net.values()) {
      if (d === 0) continue;
      const before = this.counts.get(g)?.get(a.addr) ?? 0;
      const entry = out.get(g) ?? { add: [], del: [] };
      if (before === 0 && before + d > 0) entry.add.push(a);
      else if (before > 0 && before + d <= 0) entry.del.push(a);
      out.set(g, entry);
    }
    return out;
  }

  /** Every group's member addresses, to write them again into fresh tables. */
  all(): Map<string, Addr[]> {
    const out = new Map<string, Addr[]>();
    for (const [g, m] of this.counts)
      out.set(
        g,
        [...m.keys()].map((addr) => ({ family: this.families.get(addr) ?? 4, addr })),
      );
    return out;
  }

  apply(changes: MemberChange[]): void {
    for (const c of changes) {
      this.families.set(c.addr.addr, c.addr.family);
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
    this.families.clear();
  }
}

function membershipChanges(port: SgPort | undefined, delta: 1 | -1): MemberChange[] {
  if (!port) return [];
  const addrs = memberAddresses(port);
  return [...new Set(port.securityGroups)].flatMap((groupId) => addrs.map((addr) => ({ groupId, addr, delta })));
}

export class NftFirewall implements Firewall {
  private ports = new Map<string, Applied>();
  private profiles = new Map<string, { profile: Profile; refs: number }>();
  /** Each group's chains as applied. */
  private layouts = new Map<string, GroupLayout>();
  /** Groups whose chains and sets exist in the kernel. */
  private declared = new Set<string>();
  private readonly members = new Members();
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * Whether this object made the tables (by `sync` or a first change); tables left by an earlier process are not
   * trusted.
   */
  private initialized = false;

  constructor(
    readonly table: string,
    private readonly run: NftRunner,
    private readonly log: (msg: string) => void,
  ) {
    new Batch(table); // validates the name now rather than at the first change
  }

  /** Runs operations one at a time, in call order; a failed one does not stop the next. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => {});
    return next;
  }

  /**
   * Runs an incremental batch. When the tables are not there (a change before the first `sync`, or after the last
   * filtered port left), it first recreates them with what is remembered (groups, their rules, members), so it
   * never builds on state an earlier process left.
   */
  private async apply(batch: Batch): Promise<void> {
    if (!batch.lines.length) return;
    if (!this.initialized) {
      const fresh = new Batch(this.table).recreateTables();
      for (const g of this.declared) fresh.declareGroup(g);
      for (const layout of this.layouts.values()) fresh.changeGroup(new Map(), layout);
      for (const [g, addrs] of this.members.all()) fresh.members('add', g, addrs);
      fresh.lines.push(...batch.lines);
      await this.run(fresh.text());
      this.initialized = true;
      return;
    }
    await this.run(batch.text());
  }

  private reportSkipped(skipped: { rule: SgRule; why: string }[]): void {
    for (const s of skipped)
      this.log(`firewall: rule ${s.rule.id} of group ${s.rule.security_group_id} never matches (${s.why}); left out`);
  }

  private freeIndex(taken: Iterable<number>): number {
    const used = new Set(taken);
    for (let i = 1; i <= MAX_PORT_INDEX; i++) if (!used.has(i)) return i;
    throw new Error(`firewall: more than ${MAX_PORT_INDEX} filtered ports on one host`);
  }

  sync(ports: SgPort[], rules: SgRule[]): Promise<void> {
    return this.serial(async () => {
      const groups = new Set<string>();
      for (const r of rules) {
        groups.add(r.security_group_id);
        if (r.remote_group_id) groups.add(r.remote_group_id);
      }
      for (const p of ports) for (const g of p.securityGroups) groups.add(g);

      const batch = new Batch(this.table).recreateTables();
      for (const g of groups) batch.declareGroup(g);
      const layouts = new Map<string, GroupLayout>();
      const skipped: { rule: SgRule; why: string }[] = [];
      for (const g of groups) {
        const r = groupLayout(g, rules);
        batch.changeGroup(new Map(), r.layout);
        layouts.set(g, r.layout);
        skipped.push(...r.skipped);
      }

      // Keep a port's number across resyncs when it can (stable marks), else take a free one.
      const next = new Map<string, Applied>();
      const taken = new Set<number>();
      const profiles = new Map<string, { profile: Profile; refs: number }>();
      const place = (p: SgPort, idx: number): void => {
        const profile = profileOf(p.securityGroups);
        const entry = profiles.get(profile.key) ?? { profile, refs: 0 };
        entry.refs++;
        profiles.set(profile.key, entry);
        next.set(p.id, { port: p, idx, profile, elements: portElements(p, idx, profile) });
        taken.add(idx);
      };
      for (const p of ports) {
        const old = this.ports.get(p.id);
        if (isFiltered(p) && old?.idx && !taken.has(old.idx)) place(p, old.idx);
      }
      for (const p of ports) {
        if (next.has(p.id)) continue;
        if (isFiltered(p)) place(p, this.freeIndex(taken));
        else next.set(p.id, { port: p, idx: 0, profile: null, elements: [] });
      }
      for (const { profile } of profiles.values()) batch.addProfile(profile);
      batch.addElements([...next.values()].flatMap((a) => a.elements));

      const fresh = new Members();
      const changes = [...next.values()].flatMap((a) => membershipChanges(a.port, 1));
      for (const [g, { add }] of fresh.plan(changes)) batch.members('add', g, add);

      const anyFiltered = [...next.values()].some((a) => a.idx > 0);
      await this.run(anyFiltered ? batch.text() : new Batch(this.table).dropTables().text());
      this.reportSkipped(skipped);
      this.initialized = anyFiltered;
      this.ports = next;
      this.profiles = profiles;
      this.layouts = layouts;
      this.declared = groups;
      this.members.clear();
      this.members.apply(changes);
    });
  }

  upsertPort(port: SgPort): Promise<void> {
    return this.serial(async () => {
      const old = this.ports.get(port.id);
      const batch = new Batch(this.table);
      const newGroups = [...new Set(port.securityGroups)].filter((g) => !this.declared.has(g));
      for (const g of newGroups) batch.declareGroup(g);

      let next: Applied = { port, idx: 0, profile: null, elements: [] };
      if (isFiltered(port)) {
        const idx = old?.idx || this.freeIndex([...this.ports.values()].map((a) => a.idx));
        const profile = profileOf(port.securityGroups);
        next = { port, idx, profile, elements: portElements(port, idx, profile) };
      }
      const profileAdded =
        next.profile && !this.profiles.has(next.profile.key) && next.profile.key !== old?.profile?.key;
      if (profileAdded) batch.addProfile(next.profile!);
      const { del, add } = diffElements(old?.elements ?? [], next.elements);
      batch.deleteElements(del).addElements(add);
      const profileGone =
        old?.profile && old.profile.key !== next.profile?.key && this.profiles.get(old.profile.key)?.refs === 1;
      if (profileGone) batch.deleteProfile(old.profile!);

      // Member groups are the old port's (declared when it was added) and the new port's (declared above).
      const changes = [...membershipChanges(old?.port, -1), ...membershipChanges(port, 1)];
      for (const [g, m] of this.members.plan(changes)) batch.members('delete', g, m.del).members('add', g, m.add);

      await this.apply(batch);
      for (const g of newGroups) this.declared.add(g);
      this.members.apply(changes);
      if (old?.profile) this.unref(old.profile);
      if (next.profile) this.ref(next.profile);
      this.ports.set(port.id, next);
    });
  }

  private ref(p: Profile): void {
    const e = this.profiles.get(p.key) ?? { profile: p, refs: 0 };
    e.refs++;
    this.profiles.set(p.key, e);
  }

  private unref(p: Profile): void {
    const e = this.profiles.get(p.key);
    if (!e) return;
    if (--e.refs <= 0) this.profiles.delete(p.key);
  }

  removePort(portId: string): Promise<void> {
    return this.serial(async () => {
      const old = this.ports.get(portId);
      if (!old) return;
      const batch = new Batch(this.table);
      batch.deleteElements(old.elements);
      if (old.profile && this.profiles.get(old.profile.key)?.refs === 1) batch.deleteProfile(old.profile);
      const changes = membershipChanges(old.port, -1);
      for (const [g, { del }] of this.members.plan(changes)) batch.members('delete', g, del);
      // With no filtered port left the host needs no tables: drop them (a later change recreates them from memory),
      // so a host whose guests are all gone keeps no nft state of Gureum's.
      const lastFiltered = old.idx > 0 && ![...this.ports.values()].some((a) => a.idx > 0 && a.port.id !== portId);
      if (lastFiltered && this.initialized) {
        await this.run(new Batch(this.table).dropTables().text());
        this.initialized = false;
      } else {
        await this.apply(batch);
      }
      this.members.apply(changes);
      if (old.profile) this.unref(old.profile);
      this.ports.delete(portId);
    });
  }

  setGroupRules(groupId: string, rules: SgRule[]): Promise<void> {
    return this.serial(async () => {
      const batch = new Batch(this.table);
      const toDeclare = new Set<string>([groupId]);
      for (const r of rules) if (r.remote_group_id) toDeclare.add(r.remote_group_id);
      for (const g of toDeclare) if (!this.declared.has(g)) batch.declareGroup(g);
      const before = this.layouts.get(groupId) ?? new Map<string, string[]>();
      const { layout, skipped } = groupLayout(groupId, rules);
      batch.changeGroup(before, layout);
      await this.apply(batch);
      this.reportSkipped(skipped);
      for (const g of toDeclare) this.declared.add(g);
      this.layouts.set(groupId, layout);
    });
  }

  destroy(): Promise<void> {
    return this.serial(async () => {
      await this.run(new Batch(this.table).dropTables().text());
      this.initialized = false;
      this.ports.clear();
      this.profiles.clear();
      this.layouts.clear();
      this.declared.clear();
      this.members.clear();
    });
  }
}
