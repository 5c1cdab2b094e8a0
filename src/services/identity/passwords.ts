import { scrypt, randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

function scryptAsync(secret: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r * p bytes plus slack.
    const maxmem = 256 * p.N * p.r + 64 * 1024 * 1024;
    scrypt(secret, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Hashes a password as "scrypt$N$r$p$salt$key" (base64url), so parameters can change without invalidating old hashes.
 */
export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Secrets that are long and random (tokens, application-credential secrets) need no slow hash: SHA-256 suffices. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
