import type { GureumConfig } from './config.js';
import type { IdentityService } from './services/identity/index.js';
import type { ImageService } from './services/image/index.js';
import type { NetworkService } from './services/network/index.js';
import type { ComputeService } from './services/compute/index.js';
import type { MetadataService } from './services/metadata/index.js';
import type { ConsoleService } from './services/console/index.js';
import type { VolumeService } from './services/volume/index.js';
import type { MonitoringService } from './services/monitoring/index.js';
import type { MetricsService } from './services/monitoring/metrics.js';
import type { AuditService } from './services/audit/index.js';

/** What every API plugin gets: config and the services (never the store: HTTP does not reach SQL). */
export interface AppDeps {
  config: GureumConfig;
  identity: IdentityService;
  image: ImageService;
  network: NetworkService;
  compute: ComputeService;
  metadata: MetadataService;
  /** Remote console tokens (noVNC websocket proxy). */
  console: ConsoleService;
  /** Block storage (Cinder v3). */
  volume: VolumeService;
  /** The built-in time series of instance figures (/monitoring/v1) and the live counters /metrics exports. */
  monitoring: MonitoringService;
  /** The /metrics exporter and the control plane's request counters. */
  metrics: MetricsService;
  /** The audit trail of state-changing calls (Gureum's own API, admins only). */
  audit: AuditService;
}
