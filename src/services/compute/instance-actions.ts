import type { InstanceActionEventRow, InstanceActionRow } from '../../store/compute-tables.js';
import { uuid } from '../../util/ids.js';
import { type ComputeDeps, type Db, nowIso } from './common.js';

/** resetState -> reset_state, os-migrateLive -> os_migrate_live. */
const snakeCase = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, '_');

/** Nova's instance action log (os-instance-actions): one action per API call, events from the host. */
export class InstanceActionLog {
  constructor(private readonly d: ComputeDeps) {}

  /**
   * Starts an action and its first event (running). Actions the API completes by itself (lock, unlock, resetState)
   * name no host event; they get an `api_<action>` event, so every action listed has timings and a result.
   * Returns the action id.
   */
  async start(
    trx: Db,
    a: {
      instanceId: string;
      action: string;
      requestId: string;
      userId: string;
      projectId: string;
      event?: string;
      host?: string | null;
    },
  ): Promise<string> {
    const now = nowIso();
    const id = uuid();
    await trx
      .insertInto('compute_instance_actions')
      .values({
        id,
        instance_id: a.instanceId,
        action: a.action,
        request_id: a.requestId,
        user_id: a.userId,
        project_id: a.projectId,
        message: null,
        start_time: now,
        finish_time: null,
        updated_at: now,
      })
      .execute();
    await this.startEvent(trx, id, a.event ?? `api_${snakeCase(a.action)}`, a.event ? (a.host ?? null) : null);
    return id;
  }

  async startEvent(trx: Db, actionId: string, event: string, host: string | null): Promise<void> {
    await trx
      .insertInto('compute_instance_action_events')
      .values({
        id: uuid(),
        action_id: actionId,
        event,
        host,
        result: null,
        traceback: null,
        details: null,
        start_time: nowIso(),
        finish_time: null,
      })
      .execute();
  }

  /** Finishes the action's open events and the action; an error marks both as failed (message "Error"). */
  async finish(trx: Db, actionId: string, error?: string): Promise<void> {
    const now = nowIso();
    await trx
      .updateTable('compute_instance_action_events')
      .set({
        finish_time: now,
        result: error ? 'Error' : 'Success',
        traceback: error ?? null,
        details: error ?? null,
      })
      .where('action_id', '=', actionId)
      .where('finish_time', 'is', null)
      .execute();
    await trx
      .updateTable('compute_instance_actions')
      .set({ finish_time: now, updated_at: now, message: error ? 'Error' : null })
      .where('id', '=', actionId)
      .execute();
  }

  /** The request id an action was recorded under (host tasks carry the action id). */
  async requestIdOf(actionId: string): Promise<string | null> {
    const row = await this.d.db
      .selectFrom('compute_instance_actions')
      .select('request_id')
      .where('id', '=', actionId)
      .executeTakeFirst();
    return row?.request_id ?? null;
  }

  async list(
    instanceId: string,
    opts: { limit?: number; marker?: string; changesSince?: string; changesBefore?: string } = {},
  ): Promise<InstanceActionRow[]> {
    let rows = await this.d.db
      .selectFrom('compute_instance_actions')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .orderBy('start_time', 'desc')
      .orderBy('id', 'desc')
      .execute();
    if (opts.changesSince) rows = rows.filter((r) => r.updated_at >= opts.changesSince!);
    if (opts.changesBefore) rows = rows.filter((r) => r.updated_at <= opts.changesBefore!);
    if (opts.marker !== undefined) {
      const i = rows.findIndex((r) => r.request_id === opts.marker);
      if (i < 0) return Promise.reject(Object.assign(new Error('marker'), { marker: opts.marker }));
      rows = rows.slice(i + 1);
    }
    if (opts.limit !== undefined) rows = rows.slice(0, opts.limit);
    return rows;
  }

  async get(
    instanceId: string,
    requestId: string,
  ): Promise<{ action: InstanceActionRow; events: InstanceActionEventRow[] } | null> {
    const action = await this.d.db
      .selectFrom('compute_instance_actions')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    if (!action) return null;
    const events = await this.d.db
      .selectFrom('compute_instance_action_events')
      .selectAll()
      .where('action_id', '=', action.id)
      .orderBy('start_time')
      .execute();
    return { action, events };
  }
}
