import { badRequest } from '../../errors.js';

/** Query-string readers that answer with Nova's "Invalid input for query parameters" 400s (bodies: ./schemas). */
export type Json = Record<string, unknown>;

/** Query parameter as a non-negative integer (limit, marker-like). */
export function qInt(q: Record<string, unknown>, key: string, min = 0): number | undefined {
  const v = q[key];
  if (v === undefined || v === '') return undefined;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min)
    throw badRequest(
      `Invalid input for query parameters ${key}. Value: ${String(s)}. '${String(s)}' is not a valid integer >= ${min}`,
    );
  return n;
}

export function qStr(q: Record<string, unknown>, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  return String(Array.isArray(v) ? v[v.length - 1] : v);
}

export function qList(q: Record<string, unknown>, key: string): string[] {
  const v = q[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function qBool(q: Record<string, unknown>, key: string): boolean | undefined {
  const s = qStr(q, key);
  if (s === undefined) return undefined;
  const l = s.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(l)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(l)) return false;
  throw badRequest(`Invalid input for query parameters ${key}. Value: ${s}.`);
}
