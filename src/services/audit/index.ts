// The audit trail: who changed what, when, with which outcome. Rows are only ever inserted (one per state-changing
// API call, written by the HTTP layer's hook after the answer is sent) and deleted by age (retention); no code path
// updates one. Request bodies are never stored, so no password, token, key or user_data can end up here.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuditEventsTable } from '../../store/audit-tables.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';

/** One recorded call, as the API shows it. */
export type AuditEvent = AuditEventsTable;
/** What the HTTP hook hands over; the service adds the id. */
export type AuditEventInput = Omit<AuditEvent, 'id'>;

/** The filters of the admin listing. */
export interface AuditQuery {
  projectId?: string;
  userId?: string;
  service?: string;
  method?: string;
  requestId?: string;
  targetId?: string;
  /** Exact policy rule, or a prefix ending in ':' or '*' (`compute:` for every compute action). */
  action?: string;
  /** success (status < 400) or failure (>= 400), or one status code. */
  outcome?: 'success' | 'failure' | number;
  since?: string;
  until?: string;
  limit: number;
  /** The id of the last event of the previous page (newest first). */
  marker?: string;
}

export interface AuditOptions {
  /** Events older than this many days are deleted by `prune()`; 0 keeps them for ever. */
  retentionDays: number;
}

/** Parses a time filter (ISO 8601) into the stored form, or a 400 naming the parameter. */
export function auditTime(name: string, value: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw badRequest(`Invalid ${name}: "${value}" is not an ISO 8601 time.`);
  return new Date(ms).toISOString();
}

export class AuditService {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: { db: Kysely<Database>; options: AuditOptions; onError?: (e: unknown) => void }) {}

  /** Appends one event. Never throws: a failed write is reported through onError (the call itself already ran). */
  record(event: AuditEventInput): Promise<void> {
    const p = this.deps.db
      .insertInto('audit_events')
      .values({ id: uuid(), ...event })
      .execute()
      .then(
        () => undefined,
        (e: unknown) => this.deps.onError?.(e),
      );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /** Resolves once every event handed to record() so far is written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Events, newest first, one page. */
  async list(q: AuditQuery): Promise<AuditEvent[]> {
    let s = this.deps.db.selectFrom('audit_events').selectAll();
    if (q.projectId !== undefined) s = s.where('project_id', '=', q.projectId);
    if (q.userId !== undefined) s = s.where('user_id', '=', q.userId);
    if (q.service !== undefined) s = s.where('service', '=', q.service);
    if (q.method !== undefined) s = s.where('method', '=', q.method.toUpperCase());
    if (q.requestId !== undefined) s = s.where('request_id', '=', q.requestId);
    if (q.targetId !== undefined) s = s.where('target_id', '=', q.targetId);
    if (q.action !== undefined) {
      const prefix = q.action.endsWith('*') ? q.action.slice(0, -1) : q.action.endsWith(':') ? q.action : undefined;
      if (prefix !== undefined) {
        // A prefix match without LIKE's wildcards: the range [prefix, prefix + U+FFFF) sorts the same in both dialects.
        s = s.where('action', '>=', prefix).where('action', '<', `${prefix}\uffff`);
      } else s = s.where('action', '=', q.action);
    }
    if (q.outcome === 'success') s = s.where('status', '<', 400);
    else if (q.outcome === 'failure') s = s.where('status', '>=', 400);
    else if (typeof q.outcome === 'number') s = s.where('status', '=', q.outcome);
    if (q.since !== undefined) s = s.where('created_at', '>=', q.since);
    if (q.until !== undefined) s = s.where('created_at', '<', q.until);
    if (q.marker !== undefined) {
      const m = await this.deps.db
        .selectFrom('audit_events')
        .select(['id', 'created_at'])
        .where('id', '=', q.marker)
        .executeTakeFirst();
      if (!m) throw notFound(`Marker ${q.marker} could not be found.`);
      s = s.where((eb) =>
        eb.or([
          eb('created_at', '<', m.created_at),
          eb.and([eb('created_at', '=', m.created_at), eb('id', '<', m.id)]),
        ]),
      );
    }
    return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  }

  /** Deletes events older than the retention age (the only delete there is); returns how many. */
  async prune(now: Date = new Date()): Promise<number> {
    if (this.deps.options.retentionDays <= 0) return 0;
    const cutoff = new Date(now.getTime() - this.deps.options.retentionDays * 86_400_000).toISOString();
    const r = await this.deps.db.deleteFrom('audit_events').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
