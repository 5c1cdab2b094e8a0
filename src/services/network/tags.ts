import type { NetworkDeps, Db } from './common.js';
import { badInput } from './common.js';

/** Tags on any standard-attribute resource (Neutron's standard-attr-tag). */
export class Tags {
  constructor(private readonly d: NetworkDeps) {}

  /** Tags of many resources at once: id -> sorted tags. */
  async forIds(ids: string[], db: Db = this.d.db): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db
        .selectFrom('net_tags')
        .select(['resource_id', 'tag'])
        .where('resource_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.resource_id, [...(out.get(r.resource_id) ?? []), r.tag]);
    }
    for (const v of out.values()) v.sort();
    return out;
  }

  async of(id: string, db: Db = this.d.db): Promise<string[]> {
    return (await this.forIds([id], db)).get(id) ?? [];
  }

  static check(tag: unknown): string {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 255 || tag.includes(',')) {
      throw badInput(`'${String(tag)}' is not a valid tag (1..255 characters, no comma).`);
    }
    return tag;
  }

  async add(type: string, id: string, tag: string): Promise<void> {
    Tags.check(tag);
    await this.d.db
      .insertInto('net_tags')
      .values({ resource_id: id, resource_type: type, tag })
      .onConflict((oc) => oc.columns(['resource_id', 'tag']).doNothing())
      .execute();
  }

  async replace(type: string, id: string, tags: unknown, db: Db = this.d.db): Promise<string[]> {
    if (!Array.isArray(tags)) throw badInput("'tags' must be a list.");
    const clean = [...new Set(tags.map((t) => Tags.check(t)))];
    await db.deleteFrom('net_tags').where('resource_id', '=', id).execute();
    if (clean.length)
      await db
        .insertInto('net_tags')
        .values(clean.map((tag) => ({ resource_id: id, resource_type: type, tag })))
        .execute();
    return clean.sort();
  }

  async remove(id: string, tag: string): Promise<boolean> {
    const r = await this.d.db
      .deleteFrom('net_tags')
      .where('resource_id', '=', id)
      .where('tag', '=', tag)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async removeAll(id: string, db: Db = this.d.db): Promise<void> {
    await db.deleteFrom('net_tags').where('resource_id', '=', id).execute();
  }
}
