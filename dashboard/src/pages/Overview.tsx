import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client';
import { useSession } from '../api/session';
import type { NeutronQuotaDetail, QuotaDetail } from '../api/types';
import { ErrorNote } from '../ui/ErrorNote';
import { Meter } from '../ui/Meter';
import { useT } from '../i18n';

/** Quota usage of the current project, from Nova's and Neutron's quota details. */
export function Overview() {
  const s = useSession();
  const t = useT();
  const compute = useQuery({
    queryKey: ['quota-compute', s.project.id],
    queryFn: async () => (await get<{ quota_set: QuotaDetail }>('compute', `/os-quota-sets/${s.project.id}/detail`)).quota_set,
    refetchInterval: 15_000,
  });
  const network = useQuery({
    queryKey: ['quota-network', s.project.id],
    queryFn: async () => (await get<{ quota: NeutronQuotaDetail }>('network', `/v2.0/quotas/${s.project.id}/details`)).quota,
    refetchInterval: 15_000,
  });
  // Block storage may be absent from a catalog: then its meters are simply not shown.
  const volume = useQuery({
    queryKey: ['quota-volume', s.project.id],
    queryFn: async () => (await get<{ quota_set: QuotaDetail }>('volume', `/os-quota-sets/${s.project.id}?usage=true`)).quota_set,
    enabled: s.catalog.some((e) => e.type === 'block-storage' || e.type === 'volumev3'),
    refetchInterval: 15_000,
  });
  const c = compute.data;
  const v = volume.data;
  const n = network.data;
  return (
    <section>
      <h1>{t('overview.title', { project: s.project.name })}</h1>
      <ErrorNote error={compute.error ?? network.error} onRetry={() => { void compute.refetch(); void network.refetch(); }} />
      {(compute.isPending || network.isPending) && <p className="muted">{t('common.loading')}</p>}
      <div className="meters">
        {c?.instances && <Meter label={t('overview.instances')} used={c.instances.in_use} limit={c.instances.limit} />}
        {c?.cores && <Meter label={t('overview.vcpus')} used={c.cores.in_use} limit={c.cores.limit} />}
        {c?.ram && <Meter label={t('overview.ram')} used={c.ram.in_use} limit={c.ram.limit} unit=" MiB" />}
        {n?.floatingip && <Meter label={t('overview.floatingIps')} used={n.floatingip.used} limit={n.floatingip.limit} />}
        {n?.security_group && <Meter label={t('overview.securityGroups')} used={n.security_group.used} limit={n.security_group.limit} />}
        {n?.network && <Meter label={t('overview.networks')} used={n.network.used} limit={n.network.limit} />}
        {n?.port && <Meter label={t('overview.ports')} used={n.port.used} limit={n.port.limit} />}
        {v?.volumes && <Meter label={t('overview.volumes')} used={v.volumes.in_use} limit={v.volumes.limit} />}
        {v?.gigabytes && <Meter label={t('overview.gigabytes')} used={v.gigabytes.in_use} limit={v.gigabytes.limit} unit=" GiB" />}
        {c?.key_pairs && <Meter label={t('overview.keypairs')} used={c.key_pairs.in_use} limit={c.key_pairs.limit} />}
      </div>
    </section>
  );
}
