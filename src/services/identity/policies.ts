import type { IdentityDeps } from './common.js';
import { splitExtra } from './common.js';
import type { PolicyRow } from '../../store/identity-tables.js';
import { fromJson } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;

/**
 * A stored policy document (Keystone's legacy /v3/policies): an opaque blob with a MIME type. Gureum never enforces it.
 */
export interface Policy {
  id: string;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}

const KNOWN = ['id', 'type', 'blob'] as const;
const toPolicy = (r: PolicyRow): Policy => ({ id: r.id, type: r.type, blob: r.blob, extra: fromJson(r.extra, {}) });

function field(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string') throw badRequest(`Invalid input for field '${name}': a string is required.`);
  if (v.length > max) throw badRequest(`Invalid input for field '${name}': too long (max ${max}).`);
  return v;
}

/** CRUD of stored policy blobs. */
export class Policies {
  constructor(private readonly d: IdentityDeps) {}

  async create(body: Obj): Promise<Policy> {
    const row: PolicyRow = {
      id: hexId(),
      type: field(body.type, 'type', 255),
      blob: field(body.blob, 'blob', 65535),
      extra: JSON.stringify(splitExtra(body, KNOWN)),
    };
    await this.d.db.insertInto('policies').values(row).execute();
    return toPolicy(row);
  }

  async get(id: string): Promise<Policy> {
    const r = await this.d.db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find policy: ${id}.`);
    return toPolicy(r);
  }

  async list(f: { type?: string }): Promise<Policy[]> {
    let q = this.d.db.selectFrom('policies').selectAll().orderBy('id');
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    return (await q.execute()).map(toPolicy);
  }

  async update(id: string, body: Obj): Promise<Policy> {
    const cur = await this.get(id);
    const patch: Partial<PolicyRow> = { extra: JSON.stringify({ ...cur.extra, ...splitExtra(body, KNOWN) }) };
    if (body.type !== undefined) patch.type = field(body.type, 'type', 255);
    if (body.blob !== undefined) patch.blob = field(body.blob, 'blob', 65535);
    await this.d.db.updateTable('policies').set(patch).where('id', '=', id).execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.d.db.deleteFrom('policies').where('id', '=', id).execute();
  }
}
