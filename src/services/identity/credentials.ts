import type { IdentityDeps } from './common.js';
import { splitExtra } from './common.js';
import type { CredentialRow } from '../../store/identity-tables.js';
import { sha256 } from './passwords.js';
import { fromJson, isUniqueViolation } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A credential (ec2, totp, cert, ...): an opaque blob Keystone keeps for a user. */
export interface Credential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}

const KNOWN = ['id', 'user_id', 'project_id', 'type', 'blob'] as const;
/** Blob keys of an ec2 credential that tie it to something else and may never change. */
const EC2_PINNED = ['trust_id', 'app_cred_id', 'access_token_id', 'access_id'] as const;

const toCredential = (r: CredentialRow): Credential => ({
  id: r.id,
  user_id: r.user_id,
  project_id: r.project_id,
  type: r.type,
  blob: r.blob,
  extra: fromJson(r.extra, {}),
});

function checkString(v: unknown, field: string, max = 255): string {
  if (typeof v !== 'string' || v.length === 0)
    throw badRequest(`Invalid input for field '${field}': a non-empty string is required.`);
  if (v.length > max) throw badRequest(`Invalid input for field '${field}': too long (max ${max}).`);
  return v;
}

/** An ec2 blob is a JSON object with an "access" key. */
function ec2Blob(blob: string): Obj {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    throw badRequest('Invalid blob in credential: an ec2 credential blob must be a JSON object.');
  }
  if (!isObj(parsed)) throw badRequest('Invalid blob in credential: an ec2 credential blob must be a JSON object.');
  if (typeof parsed.access !== 'string' || !parsed.access)
    throw badRequest('Invalid blob in credential: an ec2 credential blob needs an "access" key.');
  return parsed;
}

/** The /v3/credentials store. Ec2 credentials are keyed by the SHA-256 of their access key, as in Keystone. */
export class Credentials {
  constructor(private readonly d: IdentityDeps) {}

  private async checkRefs(userId: string, projectId: string | null): Promise<void> {
    const db = this.d.db;
    if (!(await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()))
      throw badRequest(`Could not find user: ${userId}.`);
    if (projectId && !(await db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst())) {
      throw badRequest(`Could not find project: ${projectId}.`);
    }
  }

  async create(body: Obj): Promise<Credential> {
    const userId = checkString(body.user_id, 'user_id', 64);
    const type = checkString(body.type, 'type');
    if (typeof body.blob !== 'string') throw badRequest("Invalid input for field 'blob': a string is required.");
    const blob = body.blob;
    if (body.project_id !== undefined && body.project_id !== null && typeof body.project_id !== 'string') {
      throw badRequest("Invalid input for field 'project_id': must be a string or null.");
    }
    const projectId = (body.project_id as string | null | undefined) || null;
    let id = hexId();
    if (type === 'ec2') {
      const b = ec2Blob(blob);
      if (!projectId) throw badRequest('Invalid credential: an ec2 credential requires a project_id.');
      id = sha256(b.access as string);
    }
    await this.checkRefs(userId, projectId);
    const row: CredentialRow = {
      id,
      user_id: userId,
      project_id: projectId,
      type,
      blob,
      extra: JSON.stringify(splitExtra(body, KNOWN)),
    };
    try {
      await this.d.db.insertInto('credentials').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store credential - Duplicate entry found with ID ${id}.`);
      throw e;
    }
    return toCredential(row);
  }

  async find(id: string): Promise<Credential | undefined> {
    const r = await this.d.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toCredential(r) : undefined;
  }

  async get(id: string): Promise<Credential> {
    const c = await this.find(id);
    if (!c) throw notFound(`Could not find credential: ${id}.`);
    return c;
  }

  async list(f: { user_id?: string; type?: string; project_id?: string }): Promise<Credential[]> {
    let q = this.d.db.selectFrom('credentials').selectAll().orderBy('id');
    if (f.user_id !== undefined) q = q.where('user_id', '=', f.user_id);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.project_id !== undefined) q = q.where('project_id', '=', f.project_id);
    return (await q.execute()).map(toCredential);
  }

  async update(id: string, body: Obj): Promise<Credential> {
    const cur = await this.get(id);
    const userId = body.user_id === undefined ? cur.user_id : checkString(body.user_id, 'user_id', 64);
    const type = body.type === undefined ? cur.type : checkString(body.type, 'type');
    if (body.blob !== undefined && typeof body.blob !== 'string')
      throw badRequest("Invalid input for field 'blob': a string is required.");
    const blob = (body.blob as string | undefined) ?? cur.blob;
    if (body.project_id !== undefined && body.project_id !== null && typeof body.project_id !== 'string') {
      throw badRequest("Invalid input for field 'project_id': must be a string or null.");
    }
    const projectId = body.project_id === undefined ? cur.project_id : (body.project_id as string | null) || null;
    if (type === 'ec2') {
      const next = ec2Blob(blob);
      if (!projectId) throw badRequest('Invalid credential: an ec2 credential requires a project_id.');
      if (cur.type === 'ec2') {
        const old = fromJson<Obj>(cur.blob, {});
        for (const k of EC2_PINNED) {
          if ((old[k] ?? null) !== (next[k] ?? null)) throw badRequest(`${k} can not be updated for credential.`);
        }
      }
    }
    await this.checkRefs(userId, projectId);
    await this.d.db
      .updateTable('credentials')
      .set({
        user_id: userId,
        type,
        blob,
        project_id: projectId,
        extra: JSON.stringify({ ...cur.extra, ...splitExtra(body, KNOWN) }),
      })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  /**
   * OS-EC2: a new access/secret pair for the user on a project, tied to the caller's trust or application credential.
   */
  async createEc2(
    userId: string,
    projectId: unknown,
    ties: { trustId?: string; appCredId?: string } = {},
  ): Promise<Credential> {
    if (typeof projectId !== 'string' || !projectId) throw badRequest("Invalid input: 'tenant_id' is required.");
    if (!(await this.d.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()))
      throw notFound(`Could not find user: ${userId}.`);
    if (!(await this.d.db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst()))
      throw notFound(`Could not find project: ${projectId}.`);
    const blob: Obj = { access: hexId(), secret: hexId(), trust_id: ties.trustId ?? null };
    if (ties.appCredId) blob.app_cred_id = ties.appCredId;
    return this.create({ user_id: userId, project_id: projectId, type: 'ec2', blob: JSON.stringify(blob) });
  }

  /** An ec2 credential of the user by its access key, else 404. */
  async getEc2(userId: string, access: string): Promise<Credential> {
    const c = await this.find(sha256(access));
    if (c?.type !== 'ec2' || c.user_id !== userId) throw notFound(`Could not find credential: ${access}.`);
    return c;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.d.db.deleteFrom('credentials').where('id', '=', id).execute();
  }
}
