// Import tasks, as GET /v2/images/{id}/tasks shows them (API 2.12).
import type { ImageTaskRow } from '../../store/image-tables.js';
import { fromJson } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import { now, type ImageDeps } from './common.js';

/** A task as the API shows it. */
export interface ImageTask {
  id: string;
  type: string;
  status: string;
  owner: string | null;
  user_id: string | null;
  request_id: string | null;
  image_id: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  message: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

const toTask = (r: ImageTaskRow): ImageTask => ({
  id: r.id,
  type: r.type,
  status: r.status,
  owner: r.owner,
  user_id: r.user_id,
  request_id: r.request_id,
  image_id: r.image_id,
  input: fromJson(r.input, {}),
  result: fromJson(r.result, null),
  message: r.message,
  created_at: r.created_at,
  updated_at: r.updated_at,
  expires_at: r.expires_at,
});

export class Tasks {
  constructor(private readonly d: ImageDeps) {}

  async create(t: {
    imageId: string;
    owner: string | null;
    userId: string;
    requestId: string;
    input: Record<string, unknown>;
  }): Promise<string> {
    const ts = now();
    const id = uuid();
    await this.d.db
      .insertInto('image_tasks')
      .values({
        id,
        image_id: t.imageId,
        type: 'api_image_import',
        status: 'processing',
        owner: t.owner,
        user_id: t.userId,
        request_id: t.requestId,
        input: JSON.stringify(t.input),
        result: null,
        message: '',
        created_at: ts,
        updated_at: ts,
        expires_at: null,
      })
      .execute();
    return id;
  }

  async finish(id: string, ok: boolean, message = '', result: Record<string, unknown> | null = null): Promise<void> {
    const ts = now();
    const expires = new Date(Date.now() + 48 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.d.db
      .updateTable('image_tasks')
      .set({
        status: ok ? 'success' : 'failure',
        message,
        result: result ? JSON.stringify(result) : null,
        updated_at: ts,
        expires_at: expires,
      })
      .where('id', '=', id)
      .execute();
  }

  async forImage(imageId: string): Promise<ImageTask[]> {
    const rows = await this.d.db
      .selectFrom('image_tasks')
      .selectAll()
      .where('image_id', '=', imageId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toTask);
  }

  /** After a restart, tasks that were running can only have failed. */
  async failInterrupted(): Promise<void> {
    await this.d.db
      .updateTable('image_tasks')
      .set({ status: 'failure', message: 'Interrupted by a restart of the image service.', updated_at: now() })
      .where('status', 'in', ['pending', 'processing'])
      .execute();
  }
}
