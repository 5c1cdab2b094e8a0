// Wiring of observability: the monitoring service (collector + ring store) over this host's hypervisor, the /metrics
// exporter and its scrape credential.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { GureumConfig } from '../config.js';
import type { HypervisorDriver } from '../virt/index.js';
import { MonitoringService } from '../services/monitoring/index.js';
import {
  type ControlPlaneCounters,
  type MeteringTraffic,
  MetricsService,
  type SchedulerFigures,
} from '../services/monitoring/metrics.js';
import type { Store } from '../store/database.js';
import { dataPaths } from '../util/paths.js';

/** The scrape credential: the configured one, else the one in DATA_DIR/metrics-token (made once, 0600). */
export function scrapeToken(config: GureumConfig): string {
  if (config.observability.metricsToken) return config.observability.metricsToken;
  const file = dataPaths(config.dataDir).metricsToken;
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t) return t;
  }
  const t = randomBytes(32).toString('hex');
  writeFileSync(file, `${t}\n`, { mode: 0o600 });
  return t;
}

/**
 * The monitoring service of this process (it samples the guests of the hypervisor this process drives) and /metrics.
 */
export function buildObservability(
  config: GureumConfig,
  store: Store,
  hypervisor: HypervisorDriver | null,
  more: {
    counters: ControlPlaneCounters;
    scheduler: SchedulerFigures | null;
    metering?: () => Promise<MeteringTraffic[]>;
  },
): { monitoring: MonitoringService; metrics: MetricsService } {
  const db = store.db;
  const o = config.observability;
  const stats = hypervisor?.instanceStats?.bind(hypervisor) ?? null;
  const paths = dataPaths(config.dataDir);
  const monitoring = new MonitoringService({
    db,
    stats,
    options: {
      sampleIntervalMs: o.sampleIntervalSeconds * 1000,
      persistIntervalMs: o.persistIntervalSeconds * 1000,
      maxInstanceSeries: o.maxInstanceSeries,
      file: paths.monitoringSeries,
    },
  });
  const metrics = new MetricsService({
    db,
    counters: more.counters,
    scheduler: more.scheduler,
    metering: more.metering ?? null,
    poolStats: store.poolStats ? () => store.poolStats!() : null,
    monitoring,
    imageCacheDir: paths.imageCache,
    scrapeToken: scrapeToken(config),
  });
  return { monitoring, metrics };
}
