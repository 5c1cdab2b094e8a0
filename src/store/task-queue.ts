import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './tables.js';
import type { Dialect, Db } from './database.js';
import type { ComputeTaskRow } from './compute-tables.js';
import { uuid } from '../util/ids.js';

/** A unit of work for one compute host, as its agent sees it. */
export interface HostTask {
  id: string;
  host: string;
  kind: string;
  instanceId: string | null;
  payload: Record<string, unknown>;
  attempts: number;
}

let lastSeq = 0;
/** Monotonic ordering key: microseconds since the epoch, bumped on collisions (fits a double exactly). */
export function nextSeq(): number {
  const now = Date.now() * 1000;
  lastSeq = now > lastSeq ? now : lastSeq + 1;
  return lastSeq;
}

const toTask = (r: ComputeTaskRow): HostTask => ({
  id: r.id,
  host: r.host,
  kind: r.kind,
  instanceId: r.instance_id,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  attempts: r.attempts,
});

/**
 * The table of work for compute hosts. The controller enqueues in the same transaction that changes the instance;
 * a host's agent claims rows: on PostgreSQL with `FOR UPDATE SKIP LOCKED` so many agents never take the same row,
 * on SQLite inside the one writer's transaction.
 */
export class TaskQueue {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /** Adds a task; pass the caller's transaction so the task exists only if its state change commits. */
  async enqueue(
    trx: Db,
    task: { host: string; kind: string; instanceId?: string | null; payload?: Record<string, unknown> },
  ): Promise<string> {
    const now = new Date().toISOString();
    const id = uuid();
    await trx
      .insertInto('compute_tasks')
      .values({
        id,
        seq: nextSeq(),
        host: task.host,
        kind: task.kind,
        instance_id: task.instanceId ?? null,
        payload: JSON.stringify(task.payload ?? {}),
        state: 'queued',
        attempts: 0,
        claimed_by: null,
        claimed_at: null,
        error: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  /** Wakes in-process agents after a commit that enqueued work (other processes poll). */
  notify(): void {
    for (const l of this.listeners) l();
  }

  /** Registers a wake-up callback; returns the function that removes it. */
  onWork(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Claims up to `limit` queued tasks, oldest first, for `hosts` (null = every host, the all-in-one agent).
   * At most one task per instance is handed out at a time, and never while an earlier one for it runs.
   */
  async claim(worker: string, hosts: string[] | null, limit: number): Promise<HostTask[]> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('compute_tasks').selectAll().where('state', '=', 'queued');
      if (hosts) q = q.where('host', 'in', hosts);
      q = q.orderBy('seq').limit(limit);
      const rows = this.dialect === 'postgres' ? await q.forUpdate().skipLocked().execute() : await q.execute();
      if (rows.length === 0) return [];
      const busy = new Set(
        (
          await trx
            .selectFrom('compute_tasks')
            .select('instance_id')
            .where('state', '=', 'running')
            .where(
              'instance_id',
              'in',
              rows.map((r) => r.instance_id).filter((x): x is string => !!x),
            )
            .execute()
        ).map((r) => r.instance_id),
      );
      const picked: ComputeTaskRow[] = [];
      const seen = new Set<string>();
      for (const r of rows) {
        if (r.instance_id && (busy.has(r.instance_id) || seen.has(r.instance_id))) {
          seen.add(r.instance_id);
          continue;
        }
        if (r.instance_id) seen.add(r.instance_id);
        picked.push(r);
      }
      if (picked.length === 0) return [];
      const now = new Date().toISOString();
      await trx
        .updateTable('compute_tasks')
        .set({
          state: 'running',
          claimed_by: worker,
          claimed_at: now,
          updated_at: now,
          attempts: sql<number>`attempts + 1`,
        })
        .where(
          'id',
          'in',
          picked.map((r) => r.id),
        )
        .execute();
      return picked.map(toTask);
    });
  }

  /** Marks a claimed task finished; finished tasks are removed (the instance actions table keeps the history). */
  async complete(trx: Db, id: string): Promise<void> {
    await trx.deleteFrom('compute_tasks').where('id', '=', id).execute();
  }

  /** Records a failure; the task stays for inspection with state "failed". */
  async fail(trx: Db, id: string, error: string): Promise<void> {
    await trx
      .updateTable('compute_tasks')
      .set({ state: 'failed', error: error.slice(0, 2000), updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Hands tasks a dead agent held back to the queue (at start of an agent: its own earlier claims). */
  async requeueClaimedBy(worker: string): Promise<number> {
    const r = await this.db
      .updateTable('compute_tasks')
      .set({ state: 'queued', claimed_by: null, claimed_at: null })
      .where('state', '=', 'running')
      .where('claimed_by', '=', worker)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Number of tasks not yet finished (queued or running). */
  async pending(trx: Db | Transaction<Database> = this.db): Promise<number> {
    const r = await trx
      .selectFrom('compute_tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
