// What Cinder's scheduler knows of the backend: its capabilities (get_pools, /capabilities), the per-host usage of
// os-hosts, and the one scheduling decision a single backend still has to make: whether a volume type's extra specs
// ask for capabilities this backend does not have (then the volume goes to error with Cinder's "no valid backend").
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { VolumeBackend } from '../../storage/volume-backend.js';
import { notFound } from '../../errors.js';

/** The vendor the backend reports (Tempest's [volume] vendor_name must say the same). */
export const VENDOR_NAME = 'Gureum';
const DRIVER_VERSION = '1.0.0';

export interface PoolCapabilities {
  volume_backend_name: string;
  vendor_name: string;
  driver_version: string;
  storage_protocol: string;
  total_capacity_gb: number;
  free_capacity_gb: number;
  reserved_percentage: number;
  QoS_support: boolean;
  multiattach: boolean;
  thin_provisioning_support: boolean;
  timestamp: string;
}

export interface HostUsage {
  project: string;
  volumeCount: number;
  volumeGb: number;
  snapshotCount: number;
  snapshotGb: number;
}

export class BackendStats {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly backend: VolumeBackend,
    /** host@backend#pool. */
    readonly poolName: string,
  ) {}

  /** host@backend: the cinder-volume service's host. */
  get volumeHost(): string {
    return this.poolName.split('#')[0]!;
  }

  async capabilities(): Promise<PoolCapabilities> {
    const s = await this.backend.stats();
    return {
      volume_backend_name: this.backend.name,
      vendor_name: VENDOR_NAME,
      driver_version: DRIVER_VERSION,
      storage_protocol: s.storageProtocol,
      total_capacity_gb: s.totalGb,
      free_capacity_gb: s.freeGb,
      reserved_percentage: 0,
      QoS_support: true,
      multiattach: false,
      thin_provisioning_support: this.backend.format === 'qcow2',
      timestamp: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000'),
    };
  }

  /** Cinder's /capabilities/{host}: host, host@backend or the pool name. */
  async capabilitiesOf(host: string): Promise<PoolCapabilities> {
    if (![this.poolName, this.volumeHost].includes(host)) throw notFound(`No such host ${host} could be found.`);
    return this.capabilities();
  }

  /**
   * Why a type's extra specs cannot be placed on this backend, or null when they can. Only the capabilities the
   * backend reports are compared (volume_backend_name, vendor_name, storage_protocol, case-insensitive, with or
   * without the `capabilities:` scope); operator values (`<is> True`, `<in> ...`) and other keys pass, as a filter
   * that does not know them would let them through.
   */
  async unplaceable(extraSpecs: Record<string, string>): Promise<string | null> {
    const caps = await this.capabilities();
    const have: Record<string, string> = {
      volume_backend_name: caps.volume_backend_name,
      vendor_name: caps.vendor_name,
      storage_protocol: caps.storage_protocol,
    };
    for (const [rawKey, want] of Object.entries(extraSpecs)) {
      const key = rawKey.replace(/^capabilities:/, '');
      if (!(key in have) || want.trim().startsWith('<')) continue;
      if (want.trim().toLowerCase() !== have[key]!.toLowerCase())
        return `No valid backend was found. The volume type asks for ${key} ${want}; the backend has ${have[key]}.`;
    }
    return null;
  }

  /** os-hosts/{host}: totals and per-project usage of the cinder-volume host (404 for any other host). */
  async usage(host: string): Promise<HostUsage[]> {
    if (![this.volumeHost, this.poolName].includes(host)) throw notFound(`Host ${host} could not be found.`);
    const volumes = await this.db
      .selectFrom('volume_volumes')
      .select(['project_id', 'size'])
      .where('status', 'not in', ['deleting', 'error_deleting'])
      .execute();
    const snapshots = await this.db.selectFrom('volume_snapshots').select(['project_id', 'size']).execute();
    const per = new Map<string, HostUsage>();
    const of = (project: string) => {
      let u = per.get(project);
      if (!u) per.set(project, (u = { project, volumeCount: 0, volumeGb: 0, snapshotCount: 0, snapshotGb: 0 }));
      return u;
    };
    const total: HostUsage = { project: '(total)', volumeCount: 0, volumeGb: 0, snapshotCount: 0, snapshotGb: 0 };
    for (const v of volumes) {
      for (const u of [total, of(v.project_id)]) {
        u.volumeCount++;
        u.volumeGb += v.size;
      }
    }
    for (const s of snapshots) {
      for (const u of [total, of(s.project_id)]) {
        u.snapshotCount++;
        u.snapshotGb += s.size;
      }
    }
    return [total, ...[...per.values()].sort((a, b) => a.project.localeCompare(b.project))];
  }
}
