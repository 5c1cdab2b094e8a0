import { badRequest } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { type ComputeDeps, parseJson } from './common.js';

/** One server's share of a usage report (os-simple-tenant-usage `server_usages`). */
export interface ServerUsage {
  instanceId: string;
  name: string;
  projectId: string;
  flavor: string;
  hours: number;
  memoryMb: number;
  localGb: number;
  vcpus: number;
  startedAt: string;
  endedAt: string | null;
  state: string;
  uptimeSec: number;
}

/** One project's totals over the period, with its servers in the order they were paged. */
export interface ProjectUsage {
  projectId: string;
  totalHours: number;
  totalMemoryMbUsage: number;
  totalVcpusUsage: number;
  totalLocalGbUsage: number;
  servers: ServerUsage[];
}

export interface UsageQuery {
  start: Date;
  /** Clamped to now: Nova never charges time that has not happened yet. */
  end: Date;
  projectId: string | null;
  /** Paging over instances (Nova 2.40+): at most `limit` instances after the `marker` instance. */
  limit?: number;
  marker?: string;
}

export interface UsageReport {
  start: Date;
  end: Date;
  projects: ProjectUsage[];
  /** The instances of this page in paging order: the last one is the next page's marker. */
  page: ServerUsage[];
}

const HOUR_MS = 3_600_000;

/**
 * os-simple-tenant-usage: per-project usage over a period. Instances are paged in Nova's order (created_at, id),
 * so a client that passes the last instance of a page as `marker` gets the next page and, at the end, an empty one
 * (Horizon's Overview and novaclient loop until then).
 */
export class UsageService {
  constructor(private readonly d: ComputeDeps) {}

  async report(q: UsageQuery, now = new Date()): Promise<UsageReport> {
    const end = q.end > now ? now : q.end;
    let rows = await this.alive(q.start, end, q.projectId);
    if (q.marker !== undefined) rows = await this.after(rows, q.marker);
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    const page = rows.map((r) => serverUsage(r, q.start, end, now));
    const byProject = new Map<string, ProjectUsage>();
    for (const s of page) {
      const p = byProject.get(s.projectId) ?? {
        projectId: s.projectId,
        totalHours: 0,
        totalMemoryMbUsage: 0,
        totalVcpusUsage: 0,
        totalLocalGbUsage: 0,
        servers: [],
      };
      p.totalHours += s.hours;
      p.totalMemoryMbUsage += s.hours * s.memoryMb;
      p.totalVcpusUsage += s.hours * s.vcpus;
      p.totalLocalGbUsage += s.hours * s.localGb;
      p.servers.push(s);
      byProject.set(s.projectId, p);
    }
    return { start: q.start, end, projects: [...byProject.values()], page };
  }

  /** Instances (deleted ones too) that ran at some time in [start, end], in paging order. */
  private async alive(start: Date, end: Date, projectId: string | null): Promise<InstanceRow[]> {
    let query = this.d.db
      .selectFrom('compute_instances')
      .selectAll()
      .where('created_at', '<=', end.toISOString())
      .where((eb) => eb.or([eb('terminated_at', 'is', null), eb('terminated_at', '>=', start.toISOString())]))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc');
    if (projectId) query = query.where('project_id', '=', projectId);
    return query.execute();
  }

  /** The rows after the marker instance; a marker naming no instance at all is a 400, as in Nova. */
  private async after(rows: InstanceRow[], marker: string): Promise<InstanceRow[]> {
    const i = rows.findIndex((r) => r.id === marker);
    if (i >= 0) return rows.slice(i + 1);
    // The marker may have left the window (deleted before `start`): continue from where it sorts.
    const m = await this.d.db
      .selectFrom('compute_instances')
      .select(['id', 'created_at'])
      .where('id', '=', marker)
      .executeTakeFirst();
    if (!m) throw badRequest(`Marker ${marker} could not be found.`, { code: 'MarkerNotFound' });
    return rows.filter((r) => r.created_at > m.created_at || (r.created_at === m.created_at && r.id > m.id));
  }
}

/** Hours charged inside [start, end]: from launch (or creation) to termination, clipped to the period. */
function serverUsage(r: InstanceRow, start: Date, end: Date, now: Date): ServerUsage {
  const began = Date.parse(r.launched_at ?? r.created_at);
  const ended = r.terminated_at ? Date.parse(r.terminated_at) : null;
  const from = Math.max(began, start.getTime());
  const to = Math.min(ended ?? end.getTime(), end.getTime());
  const hours = Math.max(0, (to - from) / HOUR_MS);
  return {
    instanceId: r.id,
    name: r.name,
    projectId: r.project_id,
    flavor: parseJson<{ name?: string }>(r.flavor, {}).name ?? '',
    hours,
    memoryMb: r.memory_mb,
    localGb: r.root_gb,
    vcpus: r.vcpus,
    startedAt: r.launched_at ?? r.created_at,
    endedAt: r.terminated_at,
    state: r.deleted ? 'terminated' : r.vm_state,
    uptimeSec: Math.max(0, Math.floor(((ended ?? now.getTime()) - began) / 1000)),
  };
}
