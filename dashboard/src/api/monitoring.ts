// The built-in time series of an instance (GET /monitoring/v1/servers/{id}, docs/observability.md): one point a
// minute for up to 24 h, null where nothing was sampled, with units and threshold colours chosen by the server.
import { useQuery } from '@tanstack/react-query';
import { get } from './client';

export type Point = [number, number | null];
export type Metric = 'cpu' | 'disk' | 'net';

export interface SeriesAnswer {
  metric: string;
  step: number;
  start: number;
  end: number;
  units: Record<string, string>;
  thresholds: Record<string, { warning: number; critical: number }>;
  series: Record<string, Point[]>;
}

export function useServerSeries(serverId: string, metric: Metric, hours: number) {
  return useQuery({
    queryKey: ['monitoring', serverId, metric, hours],
    queryFn: () => {
      const end = Math.floor(Date.now() / 1000);
      return get<SeriesAnswer>('monitoring', `/servers/${serverId}?metric=${metric}&start=${end - hours * 3600}&end=${end}`);
    },
    // Points are a minute apart; a shorter poll shows the current minute filling in.
    refetchInterval: 20_000,
  });
}
