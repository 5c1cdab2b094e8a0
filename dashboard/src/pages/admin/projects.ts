// Every project (admin): the pickers of the flavor-access, quota and group pages.
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client';

export interface ProjectRow { id: string; name: string; enabled: boolean; description: string; domain_id: string }

export function useAllProjects() {
  return useQuery({
    queryKey: ['projects'],
    queryFn: async () => (await get<{ projects: ProjectRow[] }>('identity', '/projects')).projects.sort((a, b) => a.name.localeCompare(b.name)),
    staleTime: 30_000,
  });
}
