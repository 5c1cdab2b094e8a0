// Cinder's user messages: a failed asynchronous operation (create, extend, attach, ...) leaves a message the
// project can read (GET /messages, 3.3+), since the API call itself already answered 202.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import { now } from './model.js';

/** Cinder's action ids (cinder/message/message_field.py) for the operations we run in the background. */
const ACTION_IDS: Record<string, [string, string]> = {
  CREATE_VOLUME: ['001', 'schedule allocate volume'],
  ATTACH_VOLUME: ['002', 'attach volume'],
  COPY_IMAGE_TO_VOLUME: ['005', 'copy image to volume'],
  CREATE_VOLUME_FROM_BACKEND: ['010', 'create volume from backend storage'],
  SNAPSHOT_CREATE: ['004', 'create snapshot'],
  DELETE_VOLUME: ['016', 'delete volume'],
  EXTEND_VOLUME: ['007', 'extend volume'],
  DETACH_VOLUME: ['013', 'detach volume'],
  BACKUP_CREATE: ['017', 'create backup'],
  BACKUP_RESTORE: ['020', 'restore backup'],
};

/** Messages live 30 days (Cinder's message_ttl default is 2592000 s). */
const TTL_MS = 30 * 24 * 3600 * 1000;

export interface UserMessage {
  id: string;
  projectId: string;
  resourceType: string;
  resourceUuid: string | null;
  eventId: string;
  messageLevel: string;
  userMessage: string;
  requestId: string | null;
  createdAt: string;
  guaranteedUntil: string;
}

export class Messages {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a failure of `action` on a resource; `detail` is the underlying error. Never throws. */
  async record(
    projectId: string,
    resourceType: string,
    resourceUuid: string | null,
    action: string,
    detail: string,
  ): Promise<void> {
    const [num, what] = ACTION_IDS[action] ?? ['000', action.toLowerCase().replaceAll('_', ' ')];
    const created = now();
    await this.db
      .insertInto('volume_messages')
      .values({
        id: uuid(),
        project_id: projectId,
        resource_type: resourceType,
        resource_uuid: resourceUuid,
        event_id: `VOLUME_${resourceType}_${num}_001`,
        message_level: 'ERROR',
        user_message: `${what}: ${detail}`,
        detail,
        // Cinder names the request that failed; the failures recorded here happen in background work after the
        // API call returned, so each message gets its own id (clients expect a string, never null).
        request_id: `req-${uuid()}`,
        created_at: created,
        expires_at: new Date(Date.now() + TTL_MS).toISOString().replace(/\.(\d{3})Z$/, '.$1000'),
        // A user message is advice about a failure already recorded in the resource's status: failing to write it must
        // not turn into a second failure.
      })
      .execute()
      .catch(() => {});
  }

  private of(r: Database['volume_messages']): UserMessage {
    return {
      id: r.id,
      projectId: r.project_id,
      resourceType: r.resource_type,
      resourceUuid: r.resource_uuid,
      eventId: r.event_id,
      messageLevel: r.message_level,
      userMessage: r.user_message,
      requestId: r.request_id,
      createdAt: r.created_at,
      guaranteedUntil: r.expires_at,
    };
  }

  async list(a: AuthContext): Promise<UserMessage[]> {
    let q = this.db.selectFrom('volume_messages').selectAll().orderBy('created_at', 'desc');
    if (!isAdmin(a)) q = q.where('project_id', '=', a.projectId ?? '');
    return (await q.execute()).map((r) => this.of(r));
  }

  async get(a: AuthContext, id: string): Promise<UserMessage> {
    const r = await this.db.selectFrom('volume_messages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || (!isAdmin(a) && r.project_id !== a.projectId)) throw notFound(`Message ${id} could not be found.`);
    return this.of(r);
  }

  async delete(a: AuthContext, id: string): Promise<void> {
    await this.get(a, id);
    await this.db.deleteFrom('volume_messages').where('id', '=', id).execute();
  }
}
