// The block storage service (Cinder v3): volumes, snapshots, types, quotas and user messages over one backend.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { VolumeBackend } from '../../storage/volume-backend.js';
import { Volumes, type Background } from './volumes.js';
import { Snapshots } from './snapshots.js';
import { VolumeTypes } from './types.js';
import { VolumeQuotas } from './quotas.js';
import { Messages } from './messages.js';
import { Attachments } from './attachments.js';
import { Transfers } from './transfers.js';
import { Backups } from './backups.js';
import { QosSpecsService } from './qos-specs.js';
import { BackendStats } from './backend-stats.js';
import { BackupStore } from '../../storage/file/backup-store.js';
import type { VolumeImagePort } from './images.js';

export type { Volume, Snapshot, VolumeType, VolumeAttachment } from './model.js';
export type { VolumeCreateSpec, VolumeListFilters } from './volumes.js';
export type { UserMessage } from './messages.js';
export type { Reservation } from './attachments.js';
export type { ListOptions } from './paging.js';
export type { VolumeTransfer } from './transfers.js';
export type { VolumeBackup } from './backups.js';
export type { QosSpecs } from './qos-specs.js';
export type { HostUsage, PoolCapabilities } from './backend-stats.js';
export { hasNextPage, parseListOptions } from './paging.js';
export { VOLUME_SORT_KEYS, VOLUME_AZ } from './volumes.js';
export { SNAPSHOT_SORT_KEYS } from './snapshots.js';
export { DEFAULT_QUOTAS } from './quotas.js';
export { ImageServicePort } from './images.js';
export { VolumeComputePort } from './compute-port.js';

export interface VolumeServiceDeps {
  db: Kysely<Database>;
  backend: VolumeBackend;
  images: VolumeImagePort;
  /** The backup store's directory (DATA_DIR/backups). */
  backupDir: string;
  /** Host name for Cinder's host@backend#pool and os-services. */
  hostName: string;
  log?: (message: string, err?: unknown) => void;
}

/** The one entry point the API and other services use. */
export class VolumeService {
  readonly volumes: Volumes;
  readonly snapshots: Snapshots;
  readonly types: VolumeTypes;
  readonly quotas: VolumeQuotas;
  readonly messages: Messages;
  readonly attachments: Attachments;
  readonly transfers: Transfers;
  readonly backups: Backups;
  readonly qos: QosSpecsService;
  readonly stats: BackendStats;
  readonly backendHost: string;
  readonly hostName: string;
  private readonly running = new Set<Promise<void>>();

  constructor(deps: VolumeServiceDeps) {
    this.hostName = deps.hostName;
    this.backendHost = `${deps.hostName}@${deps.backend.name}#${deps.backend.name}`;
    const background: Background = {
      run: (what, work) => {
        const p: Promise<void> = work()
          .catch((e) => deps.log?.(`volume background work failed: ${what}`, e))
          .finally(() => this.running.delete(p));
        this.running.add(p);
      },
    };
    this.types = new VolumeTypes(deps.db);
    this.qos = new QosSpecsService(deps.db);
    this.stats = new BackendStats(deps.db, deps.backend, this.backendHost);
    this.quotas = new VolumeQuotas(deps.db);
    this.messages = new Messages(deps.db);
    this.volumes = new Volumes({
      db: deps.db,
      backend: deps.backend,
      types: this.types,
      quotas: this.quotas,
      images: deps.images,
      messages: this.messages,
      background,
      host: this.backendHost,
      stats: this.stats,
    });
    this.attachments = new Attachments({
      db: deps.db,
      backend: deps.backend,
      volumes: this.volumes,
      messages: this.messages,
    });
    this.snapshots = new Snapshots({
      db: deps.db,
      backend: deps.backend,
      quotas: this.quotas,
      volumes: this.volumes,
      messages: this.messages,
      background,
    });
    this.transfers = new Transfers({ db: deps.db, volumes: this.volumes, quotas: this.quotas });
    this.backups = new Backups({
      db: deps.db,
      store: new BackupStore(deps.backupDir),
      backend: deps.backend,
      volumes: this.volumes,
      quotas: this.quotas,
      messages: this.messages,
      background,
    });
  }

  /** First start and every start: the default type exists; work interrupted by a crash is marked failed. */
  async start(): Promise<void> {
    await this.types.bootstrap();
    await this.volumes.recover();
    await this.backups.recover();
  }

  /** Resolves when no background work is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
