import { badRequest } from '../../errors.js';

/** Small request-body readers that answer with Nova's "Invalid input for field/attribute" 400s. */
export type Json = Record<string, unknown>;

export const invalid = (field: string, value: unknown, why = '') =>
  badRequest(`Invalid input for field/attribute ${field}. Value: ${typeof value === 'string' ? value : JSON.stringify(value)}.${why ? ` ${why}` : ''}`);

/** The body's top-level object `key` (e.g. {"server": {...}}). */
export function member(body: unknown, key: string): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Invalid input for field/attribute ${key}. Value: None. '${key}' is a required property`);
  const o = (body as Json)[key];
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(o ?? null)}. '${key}' is a required property`);
  return o as Json;
}

/** Rejects keys outside `allowed` (Nova's additionalProperties: false). */
export function onlyKeys(o: Json, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected) in ${where}`);
  }
}

export function str(o: Json, key: string, opts: { required?: boolean; min?: number; max?: number; nullable?: boolean; trim?: boolean } = {}): string | null | undefined {
  const v = o[key];
  if (v === undefined) {
    if (opts.required) throw badRequest(`Invalid input for field/attribute ${key}. Value: None. '${key}' is a required property`);
    return undefined;
  }
  if (v === null) {
    if (opts.nullable) return null;
    throw invalid(key, v, 'None is not of type \'string\'');
  }
  if (typeof v !== 'string') throw invalid(key, v, `${JSON.stringify(v)} is not of type 'string'`);
  if (opts.min !== undefined && v.length < opts.min) throw invalid(key, v, 'is too short');
  if (opts.max !== undefined && v.length > opts.max) throw invalid(key, v, 'is too long');
  if (opts.trim && v.trim() !== v) throw invalid(key, v, 'Leading/trailing whitespace is not allowed');
  return v;
}

/** An integer, accepting numeric strings as Nova's schemas do. */
export function int(o: Json, key: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (opts.required) throw badRequest(`Invalid input for field/attribute ${key}. Value: None. '${key}' is a required property`);
    return undefined;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw invalid(key, v, `${JSON.stringify(v)} is not of type 'integer', 'string'`);
  if (opts.min !== undefined && n < opts.min) throw invalid(key, v, `${n} is less than the minimum of ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) throw invalid(key, v, `${n} is greater than the maximum of ${opts.max}`);
  return n;
}

/** A boolean, accepting Nova's string forms. */
export function bool(o: Json, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
    if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  throw invalid(key, v, `${JSON.stringify(v)} is not of type 'boolean'`);
}

/** A string-to-string map (metadata), Nova's limits: keys 1-255, values ≤255. */
export function stringMap(o: Json, key: string, opts: { required?: boolean } = {}): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined) {
    if (opts.required) throw badRequest(`Invalid input for field/attribute ${key}. Value: None. '${key}' is a required property`);
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(key, v, 'is not of type \'object\'');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Json)) {
    if (k.length < 1 || k.length > 255) throw invalid(key, k, 'Metadata keys must be 1 to 255 characters');
    if (typeof val !== 'string') throw invalid(key, val, 'Metadata values must be strings');
    if (val.length > 255) throw invalid(key, val, 'is too long');
    out[k] = val;
  }
  return out;
}

/** Query parameter as a non-negative integer (limit, marker-like). */
export function qInt(q: Record<string, unknown>, key: string, min = 0): number | undefined {
  const v = q[key];
  if (v === undefined || v === '') return undefined;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min) throw badRequest(`Invalid input for query parameters ${key}. Value: ${String(s)}. '${String(s)}' is not a valid integer >= ${min}`);
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

/** An IPv6 address in its canonical compressed form (as Nova stores accessIPv6), or null when invalid. */
export function normalizeIpv6(s: string): string | null {
  let text = s.trim().toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const nums = groups.map((g) => parseInt(g, 16).toString(16));
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (nums[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && nums[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return nums.join(':');
  return `${nums.slice(0, best).join(':')}::${nums.slice(best + bestLen).join(':')}`;
}
