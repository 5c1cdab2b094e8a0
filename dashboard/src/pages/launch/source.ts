// The launch wizard's boot source, as Horizon offers it: an image (local root disk), or a volume as the root disk:
// an existing bootable volume, or a new one made from an image or a volume snapshot (boot from volume).
import type { Image } from '../../api/types';
import type { Snapshot, Volume } from '../../api/volumes';
import type { T } from '../../i18n';

export type SourceKind = 'image' | 'image-volume' | 'volume' | 'snapshot';
export const SOURCE_KINDS: SourceKind[] = ['image', 'image-volume', 'volume', 'snapshot'];

export interface Source {
  kind: SourceKind;
  imageId: string;
  volumeId: string;
  snapshotId: string;
  /** GiB of the new root volume (image → volume, snapshot → volume). */
  volumeSize: number;
  deleteOnTermination: boolean;
}

export const NO_SOURCE: Source = { kind: 'image', imageId: '', volumeId: '', snapshotId: '', volumeSize: 1, deleteOnTermination: true };

/** The smallest volume that holds an image (Nova refuses a smaller volume_size with 400). */
export const imageGiB = (img: Image): number => Math.max(img.min_disk, Math.ceil((img.size ?? 0) / 1024 ** 3), 1);

/** Why the chosen source cannot boot, or null. */
export function sourceProblem(src: Source, images: Image[], snapshots: Snapshot[], t: T): string | null {
  if (src.kind === 'image' || src.kind === 'image-volume') {
    const img = images.find((i) => i.id === src.imageId);
    if (!img) return t('launch.needImage');
    if (src.kind === 'image-volume' && src.volumeSize < imageGiB(img)) return t('launch.volumeTooSmall', { need: imageGiB(img) });
    return null;
  }
  if (src.kind === 'volume') return src.volumeId ? null : t('launch.needVolume');
  const snap = snapshots.find((x) => x.id === src.snapshotId);
  if (!snap) return t('launch.needSnapshot');
  return src.volumeSize < snap.size ? t('launch.volumeTooSmall', { need: snap.size }) : null;
}

/** The body fields of POST /servers that name the boot source. */
export function sourceBody(src: Source): Record<string, unknown> {
  if (src.kind === 'image') return { imageRef: src.imageId };
  const common = { boot_index: 0, destination_type: 'volume', delete_on_termination: src.deleteOnTermination };
  const bdm =
    src.kind === 'volume' ? { ...common, source_type: 'volume', uuid: src.volumeId }
    : src.kind === 'snapshot' ? { ...common, source_type: 'snapshot', uuid: src.snapshotId, volume_size: src.volumeSize }
    : { ...common, source_type: 'image', uuid: src.imageId, volume_size: src.volumeSize };
  return { block_device_mapping_v2: [bdm] };
}

/** A volume that can be the root disk now. */
export const bootableVolume = (v: Volume): boolean => v.status === 'available' && v.bootable === 'true';
