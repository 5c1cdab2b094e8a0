import type { IdentityDeps } from './common.js';
import { splitExtra } from './common.js';
import type { OAuthConsumerRow } from '../../store/identity-extra-tables.js';
import { fromJson } from '../../store/database.js';
import { hexId, randomSecret } from '../../util/ids.js';
import { sha256 } from './passwords.js';
import { badRequest, notFound } from '../../errors.js';

export interface OAuthConsumer {
  id: string;
  description: string | null;
  extra: Record<string, unknown>;
  secret?: string;
}

const KNOWN = ['id', 'description', 'secret'] as const;
const toConsumer = (r: OAuthConsumerRow): OAuthConsumer => ({
  id: r.id,
  description: r.description,
  extra: fromJson(r.extra, {}),
});

/**
 * OS-OAUTH1 consumers (the registry of third-party applications). The secret is returned once, only its hash is kept.
 * The OAuth1 request/access-token flow itself is not implemented (see README "Known gaps").
 */
export class OAuthConsumers {
  constructor(private readonly d: IdentityDeps) {}

  async create(body: Record<string, unknown>): Promise<OAuthConsumer> {
    if (body.description !== undefined && body.description !== null && typeof body.description !== 'string') {
      throw badRequest("Invalid input for field 'description': must be a string.");
    }
    const secret = randomSecret(24);
    const row: OAuthConsumerRow = {
      id: hexId(),
      description: (body.description as string | null | undefined) ?? null,
      secret_hash: sha256(secret),
      extra: JSON.stringify(splitExtra(body, KNOWN)),
    };
    await this.d.db.insertInto('oauth_consumers').values(row).execute();
    return { ...toConsumer(row), secret };
  }
  async get(id: string): Promise<OAuthConsumer> {
    const r = await this.d.db.selectFrom('oauth_consumers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find consumer: ${id}.`);
    return toConsumer(r);
  }
  async list(): Promise<OAuthConsumer[]> {
    return (await this.d.db.selectFrom('oauth_consumers').selectAll().orderBy('id').execute()).map(toConsumer);
  }
  async update(id: string, body: Record<string, unknown>): Promise<OAuthConsumer> {
    const cur = await this.get(id);
    if (body.secret !== undefined) throw badRequest('The consumer secret cannot be updated.');
    const patch: Partial<OAuthConsumerRow> = { extra: JSON.stringify({ ...cur.extra, ...splitExtra(body, KNOWN) }) };
    if (body.description !== undefined) patch.description = (body.description as string | null) ?? null;
    await this.d.db.updateTable('oauth_consumers').set(patch).where('id', '=', id).execute();
    return this.get(id);
  }
  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.d.db.deleteFrom('oauth_consumers').where('id', '=', id).execute();
  }
}
