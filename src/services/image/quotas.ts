// Per-project image quotas as Glance enforces them with Keystone unified limits: the limits come from
// Keystone's registered limits (defaults) and project limits for the `image` service; none means unlimited.
import type { ImageDeps } from './common.js';
import { CloudError } from '../../errors.js';

/** Glance's limit names: image_size_total and image_stage_total are in MiB. */
export const QUOTA_RESOURCES = [
  'image_size_total',
  'image_stage_total',
  'image_count_total',
  'image_count_uploading',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** Limit (-1 unlimited) and current usage of each resource, in the units Glance reports. */
export type Usage = Record<QuotaResource, { limit: number; usage: number }>;

const MiB = 1024 * 1024;

export class Quotas {
  constructor(private readonly d: ImageDeps) {}

  /** The project's limits: its own limit, else the registered default, else -1. */
  async limits(projectId: string): Promise<Record<QuotaResource, number>> {
    const out = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, -1])) as Record<QuotaResource, number>;
    const services = await this.d.db.selectFrom('services').select('id').where('type', '=', 'image').execute();
    if (services.length === 0) return out;
    const ids = services.map((s) => s.id);
    const defaults = await this.d.db
      .selectFrom('registered_limits')
      .select(['resource_name', 'default_limit'])
      .where('service_id', 'in', ids)
      .where('resource_name', 'in', [...QUOTA_RESOURCES])
      .execute();
    for (const r of defaults) out[r.resource_name as QuotaResource] = r.default_limit;
    const own = await this.d.db
      .selectFrom('limits')
      .select(['resource_name', 'resource_limit'])
      .where('service_id', 'in', ids)
      .where('project_id', '=', projectId)
      .where('resource_name', 'in', [...QUOTA_RESOURCES])
      .execute();
    for (const r of own) out[r.resource_name as QuotaResource] = r.resource_limit;
    return out;
  }

  /** Current usage of a project (bytes for sizes). */
  async usageBytes(projectId: string): Promise<Record<QuotaResource, number>> {
    const row = await this.d.db
      .selectFrom('images')
      .select((eb) => [
        eb.fn.countAll<number>().as('count'),
        eb.fn.coalesce(eb.fn.sum<number>('size'), eb.val(0)).as('bytes'),
        eb.fn.coalesce(eb.fn.sum<number>('staged_size'), eb.val(0)).as('staged'),
      ])
      .where('owner', '=', projectId)
      .executeTakeFirst();
    const uploading = await this.d.db
      .selectFrom('images')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', projectId)
      .where('status', 'in', ['saving', 'uploading', 'importing'])
      .executeTakeFirst();
    return {
      image_count_total: Number(row?.count ?? 0),
      image_size_total: Number(row?.bytes ?? 0),
      image_stage_total: Number(row?.staged ?? 0),
      image_count_uploading: Number(uploading?.n ?? 0),
    };
  }

  /** GET /v2/info/usage. */
  async usage(projectId: string): Promise<Usage> {
    const [limits, used] = await Promise.all([this.limits(projectId), this.usageBytes(projectId)]);
    const mib = (n: number) => Math.ceil(n / MiB);
    return {
      image_size_total: { limit: limits.image_size_total, usage: mib(used.image_size_total) },
      image_stage_total: { limit: limits.image_stage_total, usage: mib(used.image_stage_total) },
      image_count_total: { limit: limits.image_count_total, usage: used.image_count_total },
      image_count_uploading: { limit: limits.image_count_uploading, usage: used.image_count_uploading },
    };
  }

  /** Refuses (413) creating another image when the count limit is reached. */
  async checkCreate(projectId: string | undefined): Promise<void> {
    if (!projectId) return;
    const [limits, used] = await Promise.all([this.limits(projectId), this.usageBytes(projectId)]);
    if (limits.image_count_total >= 0 && used.image_count_total >= limits.image_count_total) {
      throw overLimit(`image_count_total: ${used.image_count_total} of ${limits.image_count_total} images are in use`);
    }
  }

  /**
   * How many more bytes this project may store (for an upload) or stage; refuses (413) when it is already over
   * or has too many uploads in flight.
   */
  async remainingBytes(projectId: string | null, kind: 'store' | 'stage'): Promise<number> {
    if (!projectId) return Number.MAX_SAFE_INTEGER;
    const [limits, used] = await Promise.all([this.limits(projectId), this.usageBytes(projectId)]);
    if (limits.image_count_uploading >= 0 && used.image_count_uploading >= limits.image_count_uploading) {
      throw overLimit(
        `image_count_uploading: ${used.image_count_uploading} of ${limits.image_count_uploading} uploads are in ` +
          `progress`,
      );
    }
    const [res, usedBytes] =
      kind === 'store'
        ? ['image_size_total' as const, used.image_size_total]
        : ['image_stage_total' as const, used.image_stage_total];
    const limit = limits[res];
    if (limit < 0) return Number.MAX_SAFE_INTEGER;
    const left = limit * MiB - usedBytes;
    if (left <= 0) throw overLimit(`${res}: ${Math.ceil(usedBytes / MiB)} of ${limit} MiB are in use`);
    return left;
  }
}

/** Glance answers quota refusals with 413. */
export function overLimit(detail: string): CloudError {
  return new CloudError('OverQuota', `Request Entity Too Large: Quota exceeded: ${detail}.`, { status: 413 });
}
