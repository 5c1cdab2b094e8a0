// Wiring of observability: the monitoring service (collector + ring store) over this host's hypervisor.
import type { Kysely } from 'kysely';
import type { GureumConfig } from '../config.js';
import type { Database } from '../store/tables.js';
import type { HypervisorDriver } from '../virt/index.js';
import { MonitoringService } from '../services/monitoring/index.js';
import { dataPaths } from '../util/paths.js';

/** The monitoring service of this process: it samples the guests of the hypervisor this process drives (if any). */
export function buildMonitoring(
  config: GureumConfig,
  db: Kysely<Database>,
  hypervisor: HypervisorDriver | null,
): MonitoringService {
  const o = config.observability;
  const stats = hypervisor?.instanceStats?.bind(hypervisor) ?? null;
  return new MonitoringService({
    db,
    stats,
    options: {
      sampleIntervalMs: o.sampleIntervalSeconds * 1000,
      persistIntervalMs: o.persistIntervalSeconds * 1000,
      maxInstanceSeries: o.maxInstanceSeries,
      file: dataPaths(config.dataDir).monitoringSeries,
    },
  });
}
