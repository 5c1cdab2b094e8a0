// GET /v2/images: Glance's filters, sorting (sort_key/sort_dir or sort=key:dir,...) and marker pagination.
import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { badRequest } from '../../errors.js';
import { admin, STATUSES, VISIBILITIES, MEMBER_STATUSES, type Image, type ImageDeps } from './common.js';
import type { Images } from './images.js';

/** The query string as key -> one or more values. */
export type RawQuery = Record<string, string | string[] | undefined>;

type SortKey =
  | 'name'
  | 'status'
  | 'container_format'
  | 'disk_format'
  | 'size'
  | 'virtual_size'
  | 'id'
  | 'created_at'
  | 'updated_at'
  | 'visibility'
  | 'owner'
  | 'min_disk'
  | 'min_ram'
  | 'protected'
  | 'os_hidden';
const SORT_KEYS = new Set<string>([
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'virtual_size',
  'id',
  'created_at',
  'updated_at',
  'visibility',
  'owner',
  'min_disk',
  'min_ram',
  'protected',
  'os_hidden',
]);
/** Nullable columns sort as if NULL were this (portable across SQLite and PostgreSQL). */
const NULL_AS: Partial<Record<SortKey, string | number>> = {
  name: '',
  container_format: '',
  disk_format: '',
  owner: '',
  size: -1,
  virtual_size: -1,
};
const IN_FILTERS = ['id', 'name', 'status', 'container_format', 'disk_format'] as const;
const TIME_OPS: Record<string, '>' | '>=' | '<' | '<=' | '=' | '<>'> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  eq: '=',
  neq: '<>',
};
const NOT_PROPERTIES = new Set([
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'visibility',
  'member_status',
  'tag',
  'size_min',
  'size_max',
  'os_hidden',
  'protected',
  'created_at',
  'updated_at',
  'owner',
  'min_disk',
  'min_ram',
  'virtual_size',
  'size',
  ...IN_FILTERS,
]);

/** A parsed listing request. */
export interface ListQuery {
  limit: number;
  marker?: string;
  sort: { key: SortKey; dir: 'asc' | 'desc' }[];
  visibility?: string;
  memberStatus: string;
  tags: string[];
  sizeMin?: number;
  sizeMax?: number;
  osHidden: boolean;
  protected?: boolean;
  equal: Partial<Record<string, (string | number)[]>>;
  times: { column: 'created_at' | 'updated_at'; op: '>' | '>=' | '<' | '<=' | '=' | '<>'; value: string }[];
  properties: Record<string, string>;
}

const one = (q: RawQuery, k: string): string | undefined => {
  const v = q[k];
  if (Array.isArray(v)) {
    if (v.length > 1) throw badRequest(`Only one value is allowed for '${k}'.`);
    return v[0];
  }
  return v;
};
const all = (q: RawQuery, k: string): string[] => {
  const v = q[k];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
const int = (k: string, v: string): number => {
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`Invalid value for '${k}': must be a non-negative integer.`);
  return Number(v);
};
const boolParam = (k: string, v: string): boolean => {
  const l = v.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(l)) return true;
  if (['false', '0', 'no', 'off'].includes(l)) return false;
  throw badRequest(`Invalid value for '${k}': must be a boolean.`);
};

/** Validates the query string into a ListQuery (400 on anything malformed). */
export function parseListQuery(q: RawQuery, d: ImageDeps): ListQuery {
  const out: ListQuery = {
    limit: d.options.pageDefault,
    sort: [],
    memberStatus: 'accepted',
    tags: all(q, 'tag'),
    osHidden: false,
    equal: {},
    times: [],
    properties: {},
  };
  const limit = one(q, 'limit');
  if (limit !== undefined) out.limit = Math.min(int('limit', limit), d.options.pageMax);
  const marker = one(q, 'marker');
  if (marker !== undefined) out.marker = marker;
  const sortKeys = all(q, 'sort_key');
  const sortDirs = all(q, 'sort_dir');
  const sort = one(q, 'sort');
  if (sort !== undefined && (sortKeys.length || sortDirs.length))
    throw badRequest('The sort param cannot be combined with sort_key or sort_dir.');
  const dirOf = (v: string | undefined): 'asc' | 'desc' => {
    if (v === undefined) return 'desc';
    if (v !== 'asc' && v !== 'desc') throw badRequest(`Invalid sort direction: ${v.slice(0, 32)}`);
    return v;
  };
  const keyOf = (k: string): SortKey => {
    if (!SORT_KEYS.has(k))
      throw badRequest(`Invalid sort key: ${k.slice(0, 64)}. It should be one of: ${[...SORT_KEYS].join(', ')}.`);
    return k as SortKey;
  };
  if (sort !== undefined) {
    for (const part of sort.split(',')) {
      const [k, dir, extra] = part.trim().split(':');
      if (!k || extra !== undefined) throw badRequest(`Invalid sort value: ${part.slice(0, 64)}`);
      out.sort.push({ key: keyOf(k), dir: dirOf(dir) });
    }
  } else {
    if (sortDirs.length > 1 && sortDirs.length !== sortKeys.length)
      throw badRequest('Number of sort dirs does not match the number of sort keys.');
    for (const [i, k] of sortKeys.entries()) out.sort.push({ key: keyOf(k), dir: dirOf(sortDirs[i] ?? sortDirs[0]) });
    if (sortKeys.length === 0 && sortDirs.length === 1) out.sort.push({ key: 'created_at', dir: dirOf(sortDirs[0]) });
  }
  if (out.sort.length === 0) out.sort.push({ key: 'created_at', dir: 'desc' });
  if (!out.sort.some((s) => s.key === 'id')) out.sort.push({ key: 'id', dir: out.sort[0]!.dir });

  const vis = one(q, 'visibility');
  if (vis !== undefined) {
    if (vis !== 'all' && !(VISIBILITIES as readonly string[]).includes(vis))
      throw badRequest(`Invalid visibility value: ${vis.slice(0, 32)}`);
    out.visibility = vis;
  }
  const ms = one(q, 'member_status');
  if (ms !== undefined) {
    if (ms !== 'all' && !(MEMBER_STATUSES as readonly string[]).includes(ms))
      throw badRequest(`Invalid status value: ${ms.slice(0, 32)}`);
    out.memberStatus = ms;
  }
  for (const t of out.tags) if (t.length > 255) throw badRequest('Invalid tag filter.');
  const smin = one(q, 'size_min');
  if (smin !== undefined) out.sizeMin = int('size_min', smin);
  const smax = one(q, 'size_max');
  if (smax !== undefined) out.sizeMax = int('size_max', smax);
  const hidden = one(q, 'os_hidden');
  if (hidden !== undefined) out.osHidden = boolParam('os_hidden', hidden);
  const prot = one(q, 'protected');
  if (prot !== undefined) out.protected = boolParam('protected', prot);
  for (const k of IN_FILTERS) {
    const v = one(q, k);
    if (v === undefined) continue;
    const values = v.startsWith('in:')
      ? v
          .slice(3)
          .split(',')
          .map((s) => s.replace(/^"(.*)"$/, '$1'))
      : [v];
    if (k === 'status') {
      for (const s of values)
        if (!(STATUSES as readonly string[]).includes(s)) throw badRequest(`Invalid status value: ${s.slice(0, 32)}`);
    }
    out.equal[k] = values;
  }
  for (const k of ['owner', 'size', 'virtual_size', 'min_disk', 'min_ram'] as const) {
    const v = one(q, k);
    if (v === undefined) continue;
    out.equal[k] = [k === 'owner' ? v : int(k, v)];
  }
  for (const column of ['created_at', 'updated_at'] as const) {
    for (const v of all(q, column)) {
      const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(v);
      if (!m || Number.isNaN(Date.parse(m[2]!)))
        throw badRequest(`Invalid value for '${column}': use OPERATOR:ISO8601 (gt, gte, lt, lte, eq, neq).`);
      out.times.push({ column, op: TIME_OPS[m[1]!]!, value: new Date(m[2]!).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    }
  }
  for (const [k, v] of Object.entries(q)) {
    if (NOT_PROPERTIES.has(k) || v === undefined) continue;
    out.properties[k] = Array.isArray(v) ? v[v.length - 1]! : v;
  }
  return out;
}

type EB = ExpressionBuilder<Database, 'images'>;

function sortExpr(eb: EB, key: SortKey): Expression<unknown> {
  const nullAs = NULL_AS[key];
  return nullAs === undefined ? eb.ref(key) : eb.fn.coalesce(eb.ref(key), eb.val(nullAs));
}

/** Lists the images the caller may see that match the query; `hasMore` says whether a next page exists. */
export async function listImages(
  d: ImageDeps,
  images: Images,
  a: AuthContext,
  q: ListQuery,
): Promise<{ images: Image[]; hasMore: boolean }> {
  const project = a.projectId ?? '';
  const isAdmin = admin(a);
  const memberOk = (eb: EB) => {
    let sub = eb
      .selectFrom('image_members')
      .select('image_members.image_id')
      .whereRef('image_members.image_id', '=', 'images.id')
      .where('image_members.member_id', '=', project);
    if (q.memberStatus !== 'all') sub = sub.where('image_members.status', '=', q.memberStatus);
    return eb.exists(sub);
  };
  let query = d.db.selectFrom('images').selectAll();
  query = query.where((eb) => {
    const v = q.visibility;
    const conds: Expression<SqlBool>[] = [];
    if (v === undefined || v === 'all') {
      if (!isAdmin) {
        const visible: Expression<SqlBool>[] = [
          eb('visibility', '=', 'public'),
          eb('owner', '=', project),
          eb.and([eb('visibility', '=', 'shared'), memberOk(eb)]),
        ];
        if (v === 'all') visible.push(eb('visibility', '=', 'community'));
        conds.push(eb.or(visible));
      }
    } else if (v === 'shared') {
      conds.push(eb('visibility', '=', 'shared'));
      if (!isAdmin || q.memberStatus !== 'accepted') conds.push(eb.or([eb('owner', '=', project), memberOk(eb)]));
    } else {
      conds.push(eb('visibility', '=', v));
      if (v === 'private' && !isAdmin) conds.push(eb('owner', '=', project));
    }
    conds.push(eb('os_hidden', '=', q.osHidden ? 1 : 0));
    if (q.protected !== undefined) conds.push(eb('protected', '=', q.protected ? 1 : 0));
    if (q.sizeMin !== undefined) conds.push(eb('size', '>=', q.sizeMin));
    if (q.sizeMax !== undefined) conds.push(eb('size', '<=', q.sizeMax));
    for (const [k, values] of Object.entries(q.equal)) {
      conds.push(eb(eb.ref(k as 'id'), 'in', values as string[]));
    }
    for (const t of q.times) conds.push(eb(t.column, t.op, t.value));
    for (const tag of q.tags) {
      conds.push(
        eb.exists(
          eb
            .selectFrom('image_tags')
            .select('image_tags.image_id')
            .whereRef('image_tags.image_id', '=', 'images.id')
            .where('image_tags.tag', '=', tag),
        ),
      );
    }
    for (const [name, value] of Object.entries(q.properties)) {
      conds.push(
        eb.exists(
          eb
            .selectFrom('image_properties')
            .select('image_properties.image_id')
            .whereRef('image_properties.image_id', '=', 'images.id')
            .where('image_properties.name', '=', name)
            .where('image_properties.value', '=', value),
        ),
      );
    }
    return eb.and(conds);
  });
  if (q.marker !== undefined) {
    const m = await images.find(q.marker);
    if (!m || !(await images.canSee(a, m))) throw badRequest(`The marker ${q.marker.slice(0, 64)} could not be found.`);
    const mval = (k: SortKey): string | number => {
      const v = m[k];
      return v === null ? NULL_AS[k]! : (v as string | number);
    };
    query = query.where((eb) =>
      eb.or(
        q.sort.map((s, i) =>
          eb.and([
            ...q.sort.slice(0, i).map((p) => eb(sortExpr(eb, p.key) as Expression<string>, '=', mval(p.key) as string)),
            eb(sortExpr(eb, s.key) as Expression<string>, s.dir === 'desc' ? '<' : '>', mval(s.key) as string),
          ]),
        ),
      ),
    );
  }
  for (const s of q.sort) query = query.orderBy((eb) => sortExpr(eb, s.key), s.dir);
  const rows = await query.limit(q.limit + 1).execute();
  const hasMore = rows.length > q.limit;
  return { images: await images.hydrate(rows.slice(0, q.limit)), hasMore };
}
