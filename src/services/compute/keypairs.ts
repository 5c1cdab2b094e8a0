import { createHash, generateKeyPair, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { badRequest, conflict, notFound, overQuota } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import type { KeypairRow } from '../../store/compute-tables.js';
import { type ComputeDeps, nextIntId, nowIso } from './common.js';
import type { QuotaService } from './quotas.js';
import { generateX509KeyPair } from './x509.js';

const genKeyPair = promisify(generateKeyPair);

/** A stored key pair; `privateKey` only on the answer to a generate, never stored. */
export interface Keypair {
  id: number;
  name: string;
  userId: string;
  type: 'ssh' | 'x509';
  publicKey: string;
  fingerprint: string;
  createdAt: string;
  privateKey?: string;
}

const toKeypair = (r: KeypairRow): Keypair => ({
  id: r.id,
  name: r.name,
  userId: r.user_id,
  type: r.type as 'ssh' | 'x509',
  publicKey: r.public_key,
  fingerprint: r.fingerprint,
  createdAt: r.created_at,
});

const SSH_TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** SSH wire-format string: uint32 length + bytes. */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** SSH mpint from unsigned big-endian bytes (a leading zero when the top bit is set). */
function sshMpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/**
 * Nova's fingerprint of an OpenSSH public key: MD5 of the decoded key blob, colon-separated hex. Throws 400 when
 * invalid.
 */
export function sshFingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const invalid = () =>
    badRequest('Keypair data is invalid: failed to generate fingerprint', { code: 'InvalidKeypair' });
  if (parts.length < 2 || !SSH_TYPES.has(parts[0]!)) throw invalid();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1]!)) throw invalid();
  const blob = Buffer.from(parts[1]!, 'base64');
  if (blob.length < 8) throw invalid();
  const n = blob.readUInt32BE(0);
  if (n + 4 > blob.length || blob.subarray(4, 4 + n).toString('latin1') !== parts[0]) throw invalid();
  const hex = createHash('md5').update(blob).digest('hex');
  return hex.match(/../g)!.join(':');
}

/** Nova's fingerprint of an x509 certificate: SHA-1 of the DER, colon-separated hex. */
export function x509Fingerprint(pem: string): string {
  try {
    const cert = new X509Certificate(pem);
    return cert.fingerprint.toLowerCase();
  } catch {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint', { code: 'InvalidKeypair' });
  }
}

/** A fresh RSA key: the private key as PEM (OpenSSH reads it), the public key in OpenSSH format. */
export async function generateSshKey(comment: string): Promise<{ publicKey: string; privateKey: string }> {
  const { publicKey, privateKey } = (await genKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'jwk' } as never,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  })) as unknown as { publicKey: { n: string; e: string }; privateKey: string };
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(Buffer.from(publicKey.e, 'base64url')),
    sshMpint(Buffer.from(publicKey.n, 'base64url')),
  ]);
  return { publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`, privateKey };
}

// Nova before 2.92 allows these characters in names; 2.92 widened it (we accept the wider set at 2.92+).
const NAME_RE = /^[a-zA-Z0-9 _-]+$/;
const NAME_RE_292 = /^[a-zA-Z0-9 @._-]+$/;

/** Key pairs per user, with Nova's quota and messages. */
export class KeypairService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly quotas: QuotaService,
  ) {}

  checkName(name: string, wide = false): void {
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      name.length > 255 ||
      name.trim() !== name ||
      !(wide ? NAME_RE_292 : NAME_RE).test(name)
    ) {
      throw badRequest(`Invalid input for field/attribute name. Value: ${name}.`, { code: 'InvalidKeypair' });
    }
  }

  /** Creates (generating when no public key is given) a key pair for `userId` in `projectId`'s quota. */
  async create(
    userId: string,
    projectId: string | undefined,
    spec: { name: string; type?: 'ssh' | 'x509'; publicKey?: string; wideNames?: boolean },
  ): Promise<Keypair> {
    this.checkName(spec.name, spec.wideNames);
    const type = spec.type ?? 'ssh';
    let publicKey = spec.publicKey;
    let privateKey: string | undefined;
    if (publicKey === undefined) {
      // As Nova: an ssh key with the comment "Generated-by-Nova", or an RSA key with a self-signed certificate.
      const gen =
        type === 'x509'
          ? await generateX509KeyPair(userId).then((x) => ({ publicKey: x.certificate, privateKey: x.privateKey }))
          : await generateSshKey('Generated-by-Nova');
      publicKey = gen.publicKey;
      privateKey = gen.privateKey;
    }
    const fingerprint = type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
    const limit = await this.quotas.limitFor(projectId, 'key_pairs');
    const row = await this.d.db
      .transaction()
      .execute(async (trx) => {
        if (limit >= 0) {
          const count = await trx
            .selectFrom('compute_keypairs')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', userId)
            .executeTakeFirstOrThrow();
          if (Number(count.n) >= limit)
            throw overQuota('Quota exceeded, too many key pairs.', { code: 'KeypairLimitExceeded' });
        }
        if (
          await trx
            .selectFrom('compute_keypairs')
            .select('id')
            .where('user_id', '=', userId)
            .where('name', '=', spec.name)
            .executeTakeFirst()
        ) {
          throw conflict(`Key pair '${spec.name}' already exists.`, { code: 'KeyPairExists' });
        }
        const r: KeypairRow = {
          id: await nextIntId(trx, 'compute_keypairs'),
          user_id: userId,
          name: spec.name,
          type,
          public_key: publicKey!.trim(),
          fingerprint,
          created_at: nowIso(),
        };
        await trx.insertInto('compute_keypairs').values(r).execute();
        return r;
      })
      .catch((e: unknown) => {
        if (isUniqueViolation(e)) throw conflict(`Key pair '${spec.name}' already exists.`, { code: 'KeyPairExists' });
        throw e;
      });
    return { ...toKeypair(row), ...(privateKey ? { privateKey } : {}) };
  }

  async get(userId: string, name: string): Promise<Keypair> {
    const r = await this.d.db
      .selectFrom('compute_keypairs')
      .selectAll()
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!r) throw notFound(`Keypair ${name} not found for user ${userId}`, { code: 'KeypairNotFound' });
    return toKeypair(r);
  }

  async list(userId: string, opts: { limit?: number; marker?: string } = {}): Promise<Keypair[]> {
    let q = this.d.db.selectFrom('compute_keypairs').selectAll().where('user_id', '=', userId).orderBy('name');
    if (opts.marker !== undefined) {
      const m = await this.d.db
        .selectFrom('compute_keypairs')
        .select('name')
        .where('user_id', '=', userId)
        .where('name', '=', opts.marker)
        .executeTakeFirst();
      if (!m) throw badRequest(`marker [${opts.marker}] not found`);
      q = q.where('name', '>', opts.marker);
    }
    if (opts.limit !== undefined) q = q.limit(opts.limit);
    return (await q.execute()).map(toKeypair);
  }

  async delete(userId: string, name: string): Promise<void> {
    const r = await this.d.db
      .deleteFrom('compute_keypairs')
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0)
      throw notFound(`Keypair ${name} not found for user ${userId}`, { code: 'KeypairNotFound' });
  }
}
