// Neutron list semantics on rendered objects: attribute filters, tag filters, fields, sorting and marker paging.
import { badRequest } from '../../errors.js';

type Obj = Record<string, unknown>;
export type Query = Record<string, string[]>;

const RESERVED = new Set([
  'fields',
  'sort_key',
  'sort_dir',
  'limit',
  'marker',
  'page_reverse',
  'tags',
  'tags-any',
  'not-tags',
  'not-tags-any',
]);

/** The query string as lists of values (repeated keys are allowed everywhere in Neutron). */
export function queryOf(raw: unknown): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    out[k] = (Array.isArray(v) ? v : [v]).map(String);
  }
  return out;
}

/** One value when the filter has exactly one (for pushing simple filters down to SQL). */
export function single(q: Query, key: string): string | undefined {
  const v = q[key];
  return v && v.length === 1 ? v[0] : undefined;
}

const norm = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return String(v);
  return String(v);
};

function matchesValue(actual: unknown, wanted: string[]): boolean {
  if (typeof actual === 'boolean') return wanted.some((w) => w.toLowerCase() === String(actual));
  if (Array.isArray(actual)) return actual.some((a) => wanted.includes(norm(a)));
  return wanted.includes(norm(actual));
}

/** Filters on `fixed_ips=ip_address=X`, `fixed_ips=subnet_id=Y` and `fixed_ips=ip_address_substr=Z`. */
function matchesFixedIps(actual: unknown, wanted: string[]): boolean {
  const ips = (actual ?? []) as { subnet_id: string; ip_address: string }[];
  return wanted.every((w) => {
    const [k, ...rest] = w.split('=');
    const v = rest.join('=');
    if (k === 'ip_address') return ips.some((i) => i.ip_address === v);
    if (k === 'subnet_id') return ips.some((i) => i.subnet_id === v);
    if (k === 'ip_address_substr') return ips.some((i) => i.ip_address.includes(v));
    throw badRequest(`Invalid fixed_ips filter '${w}'.`);
  });
}

const tagList = (q: Query, key: string): string[] | undefined => q[key]?.flatMap((v) => v.split(',')).filter(Boolean);

/** Applies filters, sorting, paging and fields; returns the page and the next/previous markers. */
export function applyQuery(
  items: Obj[],
  q: Query,
  opts: { path: string; collection: string; baseUrl: string },
): { items: Obj[]; links: Obj[] } {
  let out = items.filter((it) => {
    for (const [k, wanted] of Object.entries(q)) {
      if (RESERVED.has(k)) continue;
      if (k === 'fixed_ips') {
        if (!matchesFixedIps(it.fixed_ips, wanted)) return false;
        continue;
      }
      if (!(k in it)) continue;
      if (!matchesValue(it[k], wanted)) return false;
    }
    const tags = (it.tags ?? []) as string[];
    const all = tagList(q, 'tags');
    if (all && !all.every((t) => tags.includes(t))) return false;
    const any = tagList(q, 'tags-any');
    if (any && !any.some((t) => tags.includes(t))) return false;
    const notAll = tagList(q, 'not-tags');
    if (notAll?.every((t) => tags.includes(t))) return false;
    const notAny = tagList(q, 'not-tags-any');
    if (notAny?.some((t) => tags.includes(t))) return false;
    return true;
  });

  const keys = q.sort_key ?? [];
  const dirs = q.sort_dir ?? [];
  if (dirs.length && dirs.length !== keys.length)
    throw badRequest('The number of sort_keys and sort_dirs must be same.');
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw badRequest(`${d} is invalid attribute for sort_dir.`);
  if (keys.length) {
    for (const k of keys)
      if (out.length && !(k in out[0]!)) throw badRequest(`${k} is invalid attribute for sort_key.`);
    out = [...out].sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const x = a[keys[i]!];
        const y = b[keys[i]!];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : norm(x).localeCompare(norm(y));
        if (c !== 0) return dirs[i] === 'desc' ? -c : c;
      }
      return norm(a.id).localeCompare(norm(b.id));
    });
  }

  const links: Obj[] = [];
  const limitText = q.limit?.[q.limit.length - 1];
  if (limitText !== undefined) {
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`Limit must be an integer 0 or greater and not '${limitText}'`);
    const reverse = (q.page_reverse?.[0] ?? '').toLowerCase() === 'true';
    const marker = q.marker?.[q.marker.length - 1];
    let seq = reverse ? [...out].reverse() : out;
    if (marker) {
      const at = seq.findIndex((i) => i.id === marker);
      seq = at >= 0 ? seq.slice(at + 1) : seq;
    }
    const page = limit > 0 ? seq.slice(0, limit) : seq;
    const more = limit > 0 && seq.length > limit;
    out = reverse ? [...page].reverse() : page;
    const link = (rel: string, m: string, rev: boolean) => {
      const params = new URLSearchParams();
      for (const [k, vs] of Object.entries(q))
        if (!['marker', 'page_reverse'].includes(k)) for (const v of vs) params.append(k, v);
      params.set('marker', m);
      if (rev) params.set('page_reverse', 'True');
      return { rel, href: `${opts.baseUrl}${opts.path}?${params.toString()}` };
    };
    if (page.length) {
      const last = out[out.length - 1]!;
      const first = out[0]!;
      if (reverse ? marker : more) links.push(link('next', String(last.id), false));
      if (reverse ? more : marker) links.push(link('previous', String(first.id), true));
    }
  }

  const fields = q.fields?.flatMap((f) => f.split(',')).filter(Boolean);
  if (fields?.length) out = out.map((o) => pick(o, fields));
  return { items: out, links };
}

/** Only the named attributes (Neutron's `fields`). */
export function pick(o: Obj, fields: string[]): Obj {
  const r: Obj = {};
  for (const f of fields) if (f in o) r[f] = o[f];
  return r;
}
