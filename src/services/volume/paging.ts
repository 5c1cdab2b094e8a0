// Cinder's list options (sort, marker, limit, offset) over already filtered records.
import { badRequest, notFound } from '../../errors.js';

/** Parsed list options; sort is a list of (key, direction) pairs. */
export interface ListOptions {
  sort: [string, 'asc' | 'desc'][];
  limit?: number;
  marker?: string;
  offset?: number;
}

/**
 * Reads `sort=k1:asc,k2` or the older `sort_key`/`sort_dir` (not both, as Cinder says), `limit`, `marker` and
 * `offset`. `keys` are the sortable fields; created_at desc, id desc is the default, as in Cinder.
 */
export function parseListOptions(q: Record<string, unknown>, keys: readonly string[]): ListOptions {
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const sort: [string, 'asc' | 'desc'][] = [];
  const sortText = str('sort');
  if (sortText !== undefined && (str('sort_key') !== undefined || str('sort_dir') !== undefined)) {
    throw badRequest(
      "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
  }
  const dirOf = (d: string | undefined): 'asc' | 'desc' => {
    const v = (d ?? 'desc').trim().toLowerCase();
    if (v !== 'asc' && v !== 'desc') throw badRequest(`Unknown sort direction, must be 'desc' or 'asc'.`);
    return v;
  };
  if (sortText) {
    for (const part of sortText.split(',')) {
      const [k, d] = part.split(':').map((s) => s.trim());
      if (!k) throw badRequest(`Invalid sort key: ${part}`);
      sort.push([k, dirOf(d)]);
    }
  } else if (str('sort_key')) {
    sort.push([str('sort_key')!, dirOf(str('sort_dir'))]);
  } else if (str('sort_dir')) {
    sort.push(['created_at', dirOf(str('sort_dir'))]);
  }
  // Cinder still takes the v1 names of two fields (Tempest sorts snapshots by display_name).
  const legacy: Record<string, string> = { display_name: 'name', display_description: 'description' };
  for (const entry of sort) if (entry[0] in legacy && keys.includes(legacy[entry[0]]!)) entry[0] = legacy[entry[0]]!;
  for (const [k] of sort) if (!keys.includes(k)) throw badRequest(`Invalid input received: Invalid sort key ${k}.`);
  const intOf = (k: string, min: number): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min)
      throw badRequest(`Invalid input received: ${k} must be an integer ≥ ${min}, got ${v}.`);
    return Number(v);
  };
  const limit = intOf('limit', 0);
  const offset = intOf('offset', 0);
  const marker = str('marker');
  return {
    sort,
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(marker ? { marker } : {}),
  };
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Sorts, then starts after the marker (404 when it is not in the list), skips `offset`, keeps `limit`. */
export function page<T extends { id: string }>(
  items: T[],
  opts: ListOptions,
  field: (item: T, key: string) => unknown,
): { items: T[]; more: boolean } {
  const keys: [string, 'asc' | 'desc'][] = opts.sort.length ? [...opts.sort] : [['created_at', 'desc']];
  if (!keys.some(([k]) => k === 'id')) keys.push(['id', keys[keys.length - 1]![1]]);
  const sorted = [...items].sort((x, y) => {
    for (const [k, d] of keys) {
      const c = compare(field(x, k), field(y, k));
      if (c !== 0) return d === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  if (opts.marker) {
    const i = sorted.findIndex((s) => s.id === opts.marker);
    if (i < 0) throw notFound(`Marker ${opts.marker} could not be found.`);
    start = i + 1;
  }
  start += opts.offset ?? 0;
  const rest = sorted.slice(start);
  if (opts.limit === undefined) return { items: rest, more: false };
  return { items: rest.slice(0, opts.limit), more: rest.length > opts.limit };
}

/**
 * Whether a page gets a `next` link: when more items follow, and (as Cinder, which does not look ahead) whenever the
 * page is exactly `limit` long, so a list whose length divides by the limit ends with an empty page.
 */
export function hasNextPage(page: { items: unknown[]; more: boolean }, opts: ListOptions): boolean {
  return page.items.length > 0 && (page.more || page.items.length === opts.limit);
}
