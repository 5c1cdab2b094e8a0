// The interface every volume backend implements. The volume service owns the records and the status machine;
// a backend only moves bytes. Today there is one backend, `file` (qcow2 or raw files on this host); Ceph RBD or LVM
// would implement the same calls (see docs/volumes.md).

/** A local, already verified disk image to copy into a new volume (from the base-image cache). */
export interface ImageFile {
  path: string;
  /** qemu format name of the file (qcow2, raw, ...). */
  format: string;
  virtualSize: number;
}

/** How a hypervisor opens a volume: what QEMU's blockdev-add needs. */
export interface VolumeConnection {
  /** `file` for a local file; an RBD backend would answer `rbd` with pool/image/monitors. */
  driver: 'file';
  path: string;
  /** qcow2 or raw. */
  format: string;
}

/** One place volume bytes live. Sizes are bytes. Every call is idempotent enough to retry after a crash. */
export interface VolumeBackend {
  /** Backend name as Cinder's host@backend#pool shows it. */
  readonly name: string;
  /** The format new volumes get (qcow2 or raw). */
  readonly format: string;
  createBlank(volumeId: string, sizeBytes: number): Promise<void>;
  createFromImage(volumeId: string, image: ImageFile, sizeBytes: number): Promise<void>;
  createFromSnapshot(volumeId: string, snapshotId: string, sizeBytes: number): Promise<void>;
  cloneVolume(volumeId: string, sourceVolumeId: string, sizeBytes: number): Promise<void>;
  /** A point-in-time copy of the volume; `live` when a guest may be writing to it (read through its lock). */
  createSnapshot(snapshotId: string, volumeId: string, live: boolean): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  deleteVolume(volumeId: string): Promise<void>;
  /** Grows an unattached volume (attached volumes grow through the hypervisor). */
  extend(volumeId: string, sizeBytes: number): Promise<void>;
  connection(volumeId: string): VolumeConnection;
  /** Where a snapshot's bytes are, to read them (backups of a snapshot); absent: the backend cannot. */
  snapshotConnection?(snapshotId: string): VolumeConnection;
  /** What the backend reports to the scheduler (Cinder's pool capabilities): its storage protocol and capacity. */
  stats(): Promise<{ storageProtocol: string; totalGb: number; freeGb: number }>;
  /** Whether the bytes of a volume exist (restart reconciliation). */
  exists(volumeId: string): Promise<boolean>;
}
