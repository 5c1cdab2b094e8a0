import { randomBytes, randomUUID } from 'node:crypto';

/** A uuid4 in Keystone's style: 32 lowercase hex digits, no dashes. */
export function hexId(): string {
  return randomUUID().replaceAll('-', '');
}

/** A uuid4 with dashes (Nova, Glance, Neutron style). */
export function uuid(): string {
  return randomUUID();
}

/** URL-safe random secret of `bytes` bytes of entropy. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** ISO-8601 UTC timestamp with microseconds, as Keystone prints them ("2026-11-22T02:26:49.000000Z"). */
export function isoMicro(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** ISO-8601 UTC timestamp without fraction ("2026-11-22T02:26:49Z"), as Nova/Glance print them. */
export function isoSeconds(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
