// Block storage (Cinder v3) resources and their shared queries: the volumes page, the instance's volume tab and
// the launch wizard read the same cache, so an attach made on one is seen live on the others.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { call, get, send } from './client';
import { useSession } from './session';

export interface Volume {
  id: string;
  name: string | null;
  size: number;
  status: string;
  volume_type: string | null;
  bootable: string;
  attachments: { server_id: string; attachment_id?: string; device?: string }[];
}
export interface Snapshot { id: string; name: string | null; size: number; status: string; volume_id: string }
export interface VolumeType { id: string; name: string }
export interface Backup {
  id: string;
  name: string | null;
  size: number;
  status: string;
  volume_id: string;
  is_incremental: boolean;
  has_dependent_backups: boolean;
  fail_reason?: string | null;
  created_at: string;
}
export interface Transfer { id: string; name: string | null; volume_id: string; created_at?: string }
/** What the create answer carries once: the key is never shown again. */
export interface NewTransfer extends Transfer { auth_key: string }

/** Statuses that end by themselves: lists poll fast while any item is in one. */
const BUSY = new Set([
  'creating', 'extending', 'deleting', 'attaching', 'detaching', 'downloading', 'backing-up', 'restoring-backup',
  'reserved', 'uploading', 'restoring',
]);
export const isBusy = (status: string): boolean => BUSY.has(status);
const poll = (items: { status: string }[] | undefined) => ((items ?? []).some((x) => isBusy(x.status)) ? 1500 : 15_000);

export function useVolumes() {
  const s = useSession();
  return useQuery({
    queryKey: ['volumes', s.project.id],
    queryFn: async () => (await get<{ volumes: Volume[] }>('volume', '/volumes/detail')).volumes,
    refetchInterval: (q) => poll(q.state.data),
  });
}

export function useSnapshots() {
  const s = useSession();
  return useQuery({
    queryKey: ['snapshots', s.project.id],
    queryFn: async () => (await get<{ snapshots: Snapshot[] }>('volume', '/snapshots/detail')).snapshots,
    refetchInterval: (q) => poll(q.state.data),
  });
}

export function useBackups() {
  const s = useSession();
  return useQuery({
    queryKey: ['backups', s.project.id],
    queryFn: async () => (await get<{ backups: Backup[] }>('volume', '/backups/detail')).backups,
    refetchInterval: (q) => poll(q.state.data),
  });
}

export function useTransfers() {
  const s = useSession();
  return useQuery({
    queryKey: ['transfers', s.project.id],
    queryFn: async () => (await get<{ transfers: Transfer[] }>('volume', '/volume-transfers/detail')).transfers,
  });
}

export function useVolumeTypes() {
  const s = useSession();
  return useQuery({
    queryKey: ['volume-types', s.project.id],
    queryFn: async () => (await get<{ volume_types: VolumeType[] }>('volume', '/types')).volume_types,
    staleTime: 60_000,
  });
}

/** Re-reads everything a block-storage write can change (an attach also changes the server). */
export function useRefreshVolumes(): () => Promise<unknown> {
  const client = useQueryClient();
  return () =>
    Promise.all(
      ['volumes', 'snapshots', 'backups', 'transfers', 'quota-volume', 'server-volumes', 'server'].map((k) =>
        client.invalidateQueries({ queryKey: [k] }),
      ),
    );
}

export const volumeLabel = (v: { id: string; name: string | null }): string => v.name || v.id.slice(0, 8);

/** Attaches through Nova (as `openstack server add volume`): Nova reserves the volume, the host hot-plugs it. */
export const attachVolume = (serverId: string, volumeId: string) =>
  send('compute', 'POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } });

export const detachVolume = (serverId: string, volumeId: string) =>
  call('compute', `/servers/${serverId}/os-volume_attachments/${volumeId}`, { method: 'DELETE' });
