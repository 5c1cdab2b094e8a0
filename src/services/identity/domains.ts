import type { IdentityDeps } from './common.js';
import { checkName, splitExtra, nowIso, PROJECT_NAME_MAX } from './common.js';
import type { DomainRow } from '../../store/identity-tables.js';
import { bool, fromJson, isUniqueViolation, inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { conflict, notFound, forbidden, badRequest } from '../../errors.js';

export const DEFAULT_DOMAIN_ID = 'default';

export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  extra: Record<string, unknown>;
}

const KNOWN = ['id', 'name', 'description', 'enabled', 'options', 'tags', 'explicit_domain_id'] as const;

export function toDomain(r: DomainRow): Domain {
  return { id: r.id, name: r.name, description: r.description, enabled: !!r.enabled, extra: fromJson(r.extra, {}) };
}

/** Domains: the top-level containers of projects, users, groups and domain-specific roles. */
export class Domains {
  constructor(
    private readonly d: IdentityDeps,
    private readonly onDisable: (domainId: string) => Promise<void>,
  ) {}

  async create(
    body: Record<string, unknown>,
    id: string = (body.explicit_domain_id as string) ?? hexId(),
  ): Promise<Domain> {
    const name = checkName(body.name, 'name', PROJECT_NAME_MAX);
    const row: DomainRow = {
      id,
      name,
      description: typeof body.description === 'string' ? body.description : '',
      enabled: bool((body.enabled ?? true) as boolean),
      extra: JSON.stringify(splitExtra(body, KNOWN)),
      created_at: nowIso(),
    };
    try {
      await this.d.db.insertInto('domains').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store domain - Duplicate entry found with name ${name}.`);
      throw e;
    }
    return toDomain(row);
  }

  async get(id: string): Promise<Domain> {
    const r = await this.d.db.selectFrom('domains').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find domain: ${id}.`);
    return toDomain(r);
  }

  async findByName(name: string): Promise<Domain | undefined> {
    const r = await this.d.db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toDomain(r) : undefined;
  }

  async list(f: { name?: string; enabled?: boolean; ids?: string[] }): Promise<Domain[]> {
    let q = this.d.db.selectFrom('domains').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.enabled !== undefined) q = q.where('enabled', '=', bool(f.enabled));
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where('id', '=', '\u0000');
    return (await q.execute()).map(toDomain);
  }

  async update(id: string, body: Record<string, unknown>): Promise<Domain> {
    const cur = await this.get(id);
    if (body.id !== undefined && body.id !== id) throw badRequest('Cannot change the id of a domain.');
    const patch: Partial<DomainRow> = {};
    if (body.name !== undefined) patch.name = checkName(body.name, 'name', PROJECT_NAME_MAX);
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.enabled !== undefined) {
      if (typeof body.enabled !== 'boolean') throw badRequest("Invalid input for field 'enabled': must be a boolean.");
      patch.enabled = bool(body.enabled);
    }
    const extra = { ...cur.extra, ...splitExtra(body, KNOWN) };
    patch.extra = JSON.stringify(extra);
    try {
      await this.d.db.updateTable('domains').set(patch).where('id', '=', id).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to update domain - Duplicate entry found with name ${String(body.name)}.`,
        );
      throw e;
    }
    if (cur.enabled && patch.enabled === 0) await this.onDisable(id);
    return this.get(id);
  }

  /** Deletes a disabled domain and everything in it, as Keystone does. */
  async delete(id: string, cascade: (trx: IdentityDeps['db'], domainId: string) => Promise<void>): Promise<void> {
    const cur = await this.get(id);
    if (cur.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
    await inTransaction(this.d.db, async (trx) => {
      await cascade(trx as unknown as IdentityDeps['db'], id);
      await trx.deleteFrom('domains').where('id', '=', id).execute();
    });
  }
}
