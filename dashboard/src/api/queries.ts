// Shared queries: one key per resource list, so pages and the topology share a cache and a write refreshes all.
import { useQuery } from '@tanstack/react-query';
import { get } from './client';
import { useSession } from './session';
import type { Flavor, FloatingIp, Image, Keypair, Network, Port, Router, SecurityGroup, Server, Subnet } from './types';

export function useServers(opts: { all?: boolean; fast?: boolean } = {}) {
  const s = useSession();
  return useQuery({
    queryKey: ['servers', s.project.id, opts.all ? 'all' : 'mine'],
    queryFn: async () => (await get<{ servers: Server[] }>('compute', `/servers/detail${opts.all ? '?all_tenants=1' : ''}`)).servers,
    // Live status: poll fast while something is changing, slowly otherwise.
    refetchInterval: (q) => ((q.state.data ?? []).some((v) => !!v['OS-EXT-STS:task_state'] || v.status === 'BUILD') || opts.fast ? 2000 : 10_000),
  });
}

export function useFlavors() {
  const s = useSession();
  return useQuery({ queryKey: ['flavors', s.project.id], queryFn: async () => (await get<{ flavors: Flavor[] }>('compute', '/flavors/detail')).flavors, staleTime: 60_000 });
}

export function useImages() {
  const s = useSession();
  return useQuery({
    queryKey: ['images', s.project.id],
    queryFn: async () => (await get<{ images: Image[] }>('image', '/v2/images?limit=1000')).images,
    refetchInterval: (q) => ((q.state.data ?? []).some((i) => ['queued', 'saving', 'importing'].includes(i.status)) ? 3000 : 30_000),
  });
}

function neutronList<T>(key: string, path: string, field: string) {
  return () => {
    const s = useSession();
    return useQuery({ queryKey: [key, s.project.id], queryFn: async () => (await get<Record<string, T[]>>('network', `/v2.0/${path}`))[field]! });
  };
}

export const useNetworks = neutronList<Network>('networks', 'networks', 'networks');
export const useSubnets = neutronList<Subnet>('subnets', 'subnets', 'subnets');
export const useRouters = neutronList<Router>('routers', 'routers', 'routers');
export const usePorts = neutronList<Port>('ports', 'ports', 'ports');
export const useFloatingIps = neutronList<FloatingIp>('floatingips', 'floatingips', 'floatingips');
export const useSecurityGroups = neutronList<SecurityGroup>('security-groups', 'security-groups', 'security_groups');

export function useKeypairs() {
  const s = useSession();
  return useQuery({
    queryKey: ['keypairs', s.project.id, s.user.id],
    queryFn: async () => (await get<{ keypairs: { keypair: Keypair }[] }>('compute', '/os-keypairs')).keypairs.map((k) => k.keypair),
  });
}
