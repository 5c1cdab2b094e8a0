// Cinder's quotas: per-project hard limits (defaults below, overrides in volume_quotas) with usage counted from
// the volumes and snapshots themselves, so usage can never drift from what exists. A create checks and inserts in
// one transaction (SQLite serialises transactions; on PostgreSQL two concurrent creates may both pass, see README).
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Db } from '../../store/database.js';
import { badRequest, CloudError } from '../../errors.js';

/** Cinder's default quotas (cinder.conf [DEFAULT] quota_*); -1 is unlimited. */
export const DEFAULT_QUOTAS: Record<string, number> = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
  per_volume_gigabytes: -1,
};

const PER_TYPE = ['volumes', 'snapshots', 'gigabytes'] as const;

/** A limit and its usage for one resource. */
export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
}

/** 413 with Cinder's message: what the quota was and what is in use. */
function exceeded(message: string): CloudError {
  return new CloudError('OverQuota', message, { status: 413, headers: { 'Retry-After': '0' } });
}

/** The quota class `default` keeps its limits as rows of this pseudo-project (project ids are hex, never this). */
const DEFAULT_CLASS = 'class:default';

export class VolumeQuotas {
  constructor(private readonly db: Kysely<Database>) {}

  /** Resource names for a project: the global ones and volumes_/snapshots_/gigabytes_ per type. */
  async resources(db: Db = this.db): Promise<string[]> {
    const types = await db.selectFrom('volume_types').select('name').orderBy('name').execute();
    return [...Object.keys(DEFAULT_QUOTAS), ...types.flatMap((t) => PER_TYPE.map((r) => `${r}_${t.name}`))];
  }

  defaultOf(resource: string): number {
    return DEFAULT_QUOTAS[resource] ?? -1;
  }

  /** The limits of a project (the default class's where nothing was set). */
  async limits(projectId: string, db: Db = this.db): Promise<Record<string, number>> {
    const out = await this.defaults(db);
    const rows = await db.selectFrom('volume_quotas').selectAll().where('project_id', '=', projectId).execute();
    for (const r of rows) if (r.resource in out) out[r.resource] = r.hard_limit;
    return out;
  }

  /** Defaults for every resource: the built-in ones, changed by os-quota-class-sets/default. */
  async defaults(db: Db = this.db): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await this.resources(db)) out[r] = this.defaultOf(r);
    const rows = await db.selectFrom('volume_quotas').selectAll().where('project_id', '=', DEFAULT_CLASS).execute();
    for (const r of rows) if (r.resource in out) out[r.resource] = r.hard_limit;
    return out;
  }

  /** What a project uses now, per resource (groups stay 0: they do not exist). */
  async usage(projectId: string, db: Db = this.db): Promise<Record<string, number>> {
    const types = new Map(
      (await db.selectFrom('volume_types').select(['id', 'name']).execute()).map((t) => [t.id, t.name]),
    );
    const out: Record<string, number> = {
      volumes: 0,
      snapshots: 0,
      gigabytes: 0,
      backups: 0,
      backup_gigabytes: 0,
      groups: 0,
      per_volume_gigabytes: 0,
    };
    for (const name of types.values()) for (const r of PER_TYPE) out[`${r}_${name}`] = 0;
    const add = (k: string, n: number) => {
      out[k] = (out[k] ?? 0) + n;
    };
    const vols = await db
      .selectFrom('volume_volumes')
      .select(['volume_type_id', 'size'])
      .where('project_id', '=', projectId)
      .execute();
    for (const v of vols) {
      const t = types.get(v.volume_type_id);
      add('volumes', 1);
      add('gigabytes', v.size);
      if (t) {
        add(`volumes_${t}`, 1);
        add(`gigabytes_${t}`, v.size);
      }
    }
    const snaps = await db
      .selectFrom('volume_snapshots')
      .select(['volume_type_id', 'size'])
      .where('project_id', '=', projectId)
      .execute();
    for (const s of snaps) {
      const t = types.get(s.volume_type_id);
      add('snapshots', 1);
      add('gigabytes', s.size);
      if (t) {
        add(`snapshots_${t}`, 1);
        add(`gigabytes_${t}`, s.size);
      }
    }
    const backups = await db
      .selectFrom('volume_backups')
      .select(['size'])
      .where('project_id', '=', projectId)
      .where('deleted', '=', 0)
      .execute();
    for (const b of backups) {
      add('backups', 1);
      add('backup_gigabytes', b.size);
    }
    return out;
  }

  /** Refuses a new backup of `sizeGb` over the project's backups or backup_gigabytes limit (Cinder's 413). */
  async checkBackup(db: Db, projectId: string, sizeGb: number): Promise<void> {
    const limits = await this.limits(projectId, db);
    const used = await this.usage(projectId, db);
    if ((limits.backups ?? -1) >= 0 && (used.backups ?? 0) + 1 > limits.backups!) {
      throw exceeded(`BackupLimitExceeded: Maximum number of backups allowed (${limits.backups}) exceeded`);
    }
    const lim = limits.backup_gigabytes ?? -1;
    if (lim >= 0 && (used.backup_gigabytes ?? 0) + sizeGb > lim) {
      throw exceeded(
        `VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ` +
          `${sizeGb}G, quota is ${lim}G and ${used.backup_gigabytes ?? 0}G has been consumed.`,
      );
    }
  }

  /**
   * Refuses a new volume or snapshot (`kind`) of `sizeGb` in type `typeName` when it would exceed a limit, with
   * Cinder's messages. `deltaCount` 0 checks only gigabytes (extend).
   */
  async check(
    db: Db,
    projectId: string,
    kind: 'volumes' | 'snapshots',
    typeName: string,
    sizeGb: number,
    deltaCount = 1,
  ): Promise<void> {
    const limits = await this.limits(projectId, db);
    const used = await this.usage(projectId, db);
    const perVolume = limits.per_volume_gigabytes ?? -1;
    if (kind === 'volumes' && perVolume >= 0 && sizeGb > perVolume) {
      throw exceeded(
        `VolumeSizeExceedsLimit: Requested volume size ${sizeGb}G is larger than maximum allowed limit ${perVolume}G.`,
      );
    }
    for (const key of [kind, `${kind}_${typeName}`]) {
      const lim = limits[key] ?? -1;
      if (deltaCount > 0 && lim >= 0 && (used[key] ?? 0) + deltaCount > lim) {
        const what =
          kind === 'volumes'
            ? 'VolumeLimitExceeded: Maximum number of volumes'
            : 'SnapshotLimitExceeded: Maximum number of snapshots';
        throw exceeded(`${what} allowed (${lim}) exceeded for quota '${key}'.`);
      }
    }
    for (const key of ['gigabytes', `gigabytes_${typeName}`]) {
      const lim = limits[key] ?? -1;
      const inUse = used[key] ?? 0;
      if (lim >= 0 && inUse + sizeGb > lim) {
        const what =
          kind === 'volumes'
            ? 'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed'
            : 'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed';
        throw exceeded(`${what} ${key} quota. Requested ${sizeGb}G, quota is ${lim}G and ${inUse}G has been consumed.`);
      }
    }
  }

  /** Sets limits (admin). Unknown resources and values below -1 are refused, as Cinder does. */
  async set(projectId: string, values: Record<string, number>): Promise<void> {
    const known = new Set(await this.resources());
    for (const [k, v] of Object.entries(values)) {
      if (!known.has(k)) throw badRequest(`Bad key(s) in quota set: ${k}`);
      if (!Number.isInteger(v) || v < -1)
        throw badRequest(`Quota limit ${v} for ${k} must be an integer greater or equal to -1.`);
    }
    await this.db.transaction().execute(async (tx) => {
      for (const [k, v] of Object.entries(values)) {
        await tx.deleteFrom('volume_quotas').where('project_id', '=', projectId).where('resource', '=', k).execute();
        await tx.insertInto('volume_quotas').values({ project_id: projectId, resource: k, hard_limit: v }).execute();
      }
    });
  }

  /** Back to the defaults. */
  async reset(projectId: string): Promise<void> {
    await this.db.deleteFrom('volume_quotas').where('project_id', '=', projectId).execute();
  }

  /** os-quota-class-sets/default (admin): new defaults for every project without its own limit. */
  async setDefaults(values: Record<string, number>): Promise<void> {
    await this.set(DEFAULT_CLASS, values);
  }
}
