// The proxy-to-controller signature, as Neutron's metadata agent does it: X-Instance-ID-Signature is
// HMAC-SHA256(secret, instance id) in hex. The secret lives in a 0600 file in the data directory.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Signs an instance id with the shared secret. */
export function signInstanceId(secret: string, instanceId: string): string {
  return createHmac('sha256', secret).update(instanceId, 'utf8').digest('hex');
}

/** Checks a signature in constant time; false for anything malformed. */
export function verifyInstanceId(secret: string, instanceId: string, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  const want = Buffer.from(signInstanceId(secret, instanceId), 'hex');
  return timingSafeEqual(want, Buffer.from(signature, 'hex'));
}

/** Reads the secret file (the first line; at least 32 characters). */
export function readSecret(path: string): string {
  const s = readFileSync(path, 'utf8').split('\n')[0]!.trim();
  if (s.length < 32) throw new Error(`${path}: the metadata secret is too short`);
  return s;
}

/** Returns the secret in `path`, creating it (random, mode 0600) when missing; tightens a looser mode. */
export function ensureSecret(path: string): string {
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
    return readSecret(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return readSecret(path);
}
