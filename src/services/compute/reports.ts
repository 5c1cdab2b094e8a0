import type { MigrationRow } from '../../store/compute-tables.js';
import { type ComputeDeps, parseJson } from './common.js';

/** What one project has on one host (os-hosts show). */
export interface ProjectHostUsage {
  projectId: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

/** Filters of os-migrations; each one given narrows the list. */
export interface MigrationFilter {
  status?: string;
  instanceId?: string;
  migrationType?: string;
  host?: string;
}

/** Migration states in which a live migration is still in progress (servers/{id}/migrations). */
const LIVE_MIGRATION_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating'];

/**
 * Read-only admin reports over instances and migrations (os-hosts, os-hypervisors ?with_servers, os-migrations,
 * os-server-external-events; tenant usage is UsageService). Every filter runs in SQL.
 */
export class ComputeReports {
  constructor(private readonly d: ComputeDeps) {}

  /** Live (not deleted) instances on a host, by id and name. */
  async instancesOnHost(host: string): Promise<{ id: string; name: string }[]> {
    return this.d.db
      .selectFrom('compute_instances')
      .select(['id', 'name'])
      .where('host', '=', host)
      .where('deleted', '=', 0)
      .execute();
  }

  /** The host a live instance is placed on: undefined when there is no such instance, null when unplaced. */
  async hostOf(instanceId: string): Promise<string | null | undefined> {
    const row = await this.d.db
      .selectFrom('compute_instances')
      .select('host')
      .where('id', '=', instanceId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    return row ? row.host : undefined;
  }

  /** Resources the live instances on a host hold, summed per project (disk counts the ephemeral disk too). */
  async usageOnHost(host: string): Promise<ProjectHostUsage[]> {
    const rows = await this.d.db
      .selectFrom('compute_instances')
      .select(['project_id', 'vcpus', 'memory_mb', 'root_gb', 'flavor'])
      .where('host', '=', host)
      .where('deleted', '=', 0)
      .execute();
    const byProject = new Map<string, ProjectHostUsage>();
    for (const r of rows) {
      const p = byProject.get(r.project_id) ?? { projectId: r.project_id, vcpus: 0, memoryMb: 0, diskGb: 0 };
      p.vcpus += r.vcpus;
      p.memoryMb += r.memory_mb;
      p.diskGb += r.root_gb + (parseJson<{ ephemeral?: number }>(r.flavor, {}).ephemeral ?? 0);
      byProject.set(r.project_id, p);
    }
    return [...byProject.values()];
  }

  /** Migrations, newest first. */
  async migrations(f: MigrationFilter): Promise<MigrationRow[]> {
    let q = this.d.db.selectFrom('compute_migrations').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (f.status) q = q.where('status', '=', f.status);
    if (f.instanceId) q = q.where('instance_id', '=', f.instanceId);
    if (f.migrationType) q = q.where('migration_type', '=', f.migrationType);
    const host = f.host;
    if (host) q = q.where((eb) => eb.or([eb('source_compute', '=', host), eb('dest_compute', '=', host)]));
    return q.execute();
  }

  /** The live migrations of an instance that are still in progress. */
  async liveMigrationsInProgress(instanceId: string): Promise<MigrationRow[]> {
    return this.d.db
      .selectFrom('compute_migrations')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .where('migration_type', '=', 'live-migration')
      .where('status', 'in', LIVE_MIGRATION_IN_PROGRESS)
      .execute();
  }
}
