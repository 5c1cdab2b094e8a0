// The composition root: the one place that builds the store, the services, the drivers (net, virt, disk, volume
// backend), the compute host (agent, reconciler) and the HTTP server, and hands each its own config section and
// the others it needs. Nothing below src/app/ constructs a driver or a sibling service.
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { GureumConfig } from '../config.js';
import { openStore, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { IdentityService } from '../services/identity/index.js';
import { bootstrapIdentity, type BootstrapResult } from '../services/identity/bootstrap.js';
import { ImageService } from '../services/image/index.js';
import { NetworkService, networkOptions, bootstrapNetwork } from '../services/network/index.js';
import { MetadataNsAgent } from '../services/metadata/ns-agent.js';
import { resolveHypervisor } from '../virt/index.js';
import { chooseDataPlane, netStateDir, tapName } from '../net/index.js';
import { ComputeService } from '../services/compute/index.js';
import { ImageServiceAdapter, NetworkServiceAdapter } from '../services/compute/adapters.js';
import { useQemuImg } from '../disk/qemu-img.js';
import { buildServer } from '../api/http/server.js';
import { serviceApis } from '../api/registry.js';
import type { AppDeps } from '../app-deps.js';
import { MetadataService, loopbackUrl } from '../services/metadata/index.js';
import { metadataApi } from '../api/metadata/index.js';
import { ConsoleService } from '../services/console/index.js';
import { consoleApi } from '../api/console/index.js';
import { bootstrapTinyImage } from '../imaging/tiny/index.js';
import { VolumeService, ImageServicePort, VolumeComputePort } from '../services/volume/index.js';
import { dataPaths } from '../util/paths.js';
import { hostHypervisor, metadataSocketPath, netDriverFor, volumeBackend } from './drivers.js';
import { buildComputeHost, type ComputeHost } from './compute-host.js';
import { buildObservability } from './observability.js';
import { ControlPlaneCounters } from '../services/monitoring/metrics.js';
import { monitoringApi } from '../api/monitoring/index.js';
import { metricsApi } from '../api/metrics/index.js';
import { installRequestMetrics } from '../api/http/request-metrics.js';
import type { TaskLogger } from '../services/compute/task-log.js';
import { AuditService } from '../services/audit/index.js';
import { auditApi } from '../api/audit/index.js';
import { auditRequests } from '../api/audit/request-hook.js';

/** A running (or ready-to-listen) cloud controller: its dependencies and its HTTP server. */
export interface Controller {
  deps: AppDeps;
  /** The opened store, for tests and tools that set up state directly; the API never sees it. */
  store: Store;
  server: FastifyInstance;
  bootstrap: BootstrapResult;
  /** This process's compute host (agent, reconciler); null when it runs no agent (compute.runAgent false). */
  computeHost: ComputeHost | null;
  close(): Promise<void>;
}

/** Opens the store, migrates, wires services, bootstraps first-start state and builds the HTTP server. */
export async function createController(
  config: GureumConfig,
  opts: {
    adminPassword?: string /** Where log lines go instead of stdout (tests read them). */;
    logStream?: NodeJS.WritableStream;
  } = {},
): Promise<Controller> {
  // Everything the cloud writes (images, disks, keys, console logs) and every child it spawns (qemu, qemu-img) makes
  // files for the cloud's user only, whatever umask the process inherited.
  process.umask(0o077);
  useQemuImg(config.disk.qemuImg);
  // /metrics' counters exist before the store so that every statement's time is counted from the first.
  const counters = new ControlPlaneCounters();
  const store: Store = openStore(config.database.url, config.dataDir, {
    onQuery: (k, ms) => counters.observeQuery(k, ms),
  });
  try {
    await migrateToLatest(store);
    const identity = new IdentityService({ db: store.db, config: config.identity });
    const bootstrap = await bootstrapIdentity(identity, opts.adminPassword);
    const image = new ImageService({ db: store.db, dataDir: config.dataDir, config: config.image });
    await image.recover();
    const hypervisorKind = config.compute.runAgent
      ? resolveHypervisor(config.virt.driver, config.virt.qemuBinary)
      : 'none';
    const plane = chooseDataPlane(config.net.dataPlane, {
      isRoot: process.getuid?.() === 0,
      hypervisor: hypervisorKind,
    });
    // Data-plane messages wait until the server's logger exists, then go straight to it.
    const netLog: string[] = [];
    let netSay = (m: string): void => {
      netLog.push(m);
    };
    const driver = netDriverFor(config, plane, (m) => netSay(m));
    const network = new NetworkService({
      db: store.db,
      dialect: store.dialect,
      options: networkOptions(config.network),
      driver,
      onDriverError: (e) => netSay(`data plane: ${e instanceof Error ? e.message : String(e)}`),
    });
    await bootstrapNetwork(network, bootstrap.adminProjectId);
    await network.resync();
    // The data plane's agents (none with QEMU user networking) report now and every 30 s.
    await network.startAgents();
    const metadata = new MetadataService({
      db: store.db,
      dataDir: config.dataDir,
      secretFile: config.metadata.secretFile,
      controllerUrl: loopbackUrl(config.server.listen),
    });
    const hypervisor = hostHypervisor(config, image, metadata, plane.plane === 'linuxbridge' ? tapName : undefined);
    let nsAgent: MetadataNsAgent | null = null;
    if (plane.plane === 'linuxbridge') {
      nsAgent = new MetadataNsAgent({ db: store.db, target: () => metadata.nsTarget() });
      await mkdir(netStateDir(config.dataDir), { recursive: true, mode: 0o700 });
      await nsAgent.listen(metadataSocketPath(config));
    }
    const compute = new ComputeService({
      db: store.db,
      dialect: store.dialect,
      options: config.compute,
      driver: hypervisor,
    });
    compute.useImagePort(new ImageServiceAdapter(image));
    compute.useNetworkPort(new NetworkServiceAdapter(network));
    // Task lines go to the server's logger once it exists; tasks the agent runs before that (requeued at start)
    // write none.
    let taskSay: TaskLogger = () => {};
    const computeHost = hypervisor ? buildComputeHost(store.db, compute, hypervisor, (l) => taskSay(l)) : null;
    const paths = dataPaths(config.dataDir);
    const volume = new VolumeService({
      db: store.db,
      hostName: hostname(),
      backupDir: paths.backups,
      backend: volumeBackend(config),
      images: new ImageServicePort(image, paths.imageCache),
    });
    await volume.start();
    compute.useVolumePort(new VolumeComputePort(volume.attachments, volume.volumes, volume.snapshots, volume.qos));
    volume.volumes.growAttached = (instanceId, volumeId, bytes) =>
      compute.extendAttachedVolume(instanceId, volumeId, bytes);
    await compute.start();
    await computeHost?.start();
    // Attaches and detaches a crash interrupted are settled by what the hypervisor actually has.
    await volume.attachments.reconcile((instanceId, volumeId) => compute.volumeAttachedOnHost(instanceId, volumeId));
    for (const api of serviceApis) {
      if (api.catalog === false) continue;
      const url = `${config.server.publicUrl}${api.endpointPath}`;
      await identity.catalog.ensureManaged(api.type, api.name, url, config.server.region);
      for (const also of api.alsoInCatalogAs ?? [])
        await identity.catalog.ensureManaged(also.type, also.name, url, config.server.region);
    }
    const consoles = new ConsoleService({
      db: store.db,
      driver: () => hypervisor,
      options: { tokenTtlSec: config.console.tokenTtlSeconds },
    });
    const { monitoring, metrics } = buildObservability(config, store, hypervisor, {
      counters,
      scheduler: compute.scheduler,
      metering: () => network.meteringTraffic(),
    });
    await monitoring.start();
    let auditSay = (_e: unknown): void => {};
    const audit = new AuditService({
      db: store.db,
      options: { retentionDays: config.observability.auditRetentionDays },
      onError: (e) => auditSay(e),
    });
    await audit.prune();
    const deps: AppDeps = {
      config,
      identity,
      image,
      network,
      compute,
      metadata,
      console: consoles,
      volume,
      monitoring,
      metrics,
      audit,
    };
    const apis = [...serviceApis, metadataApi, consoleApi, monitoringApi, metricsApi, auditApi];
    const server = await buildServer(deps, apis, { hooks: [auditRequests(audit)], logStream: opts.logStream });
    installRequestMetrics(
      server,
      metrics.http,
      apis.map((a) => a.prefix),
    );
    auditSay = (e) => server.log.error({ err: e }, 'audit: an event could not be written');
    taskSay = (line) => server.log.info(line, 'task');
    server.log.info({ dataPlane: plane.plane, driver: driver.name }, `data plane: ${plane.plane} (${plane.reason})`);
    for (const m of netLog.splice(0)) server.log.info(m);
    netSay = (m) => server.log.info(m);
    if (config.image.tinyImage)
      await bootstrapTinyImage(image, {
        adminProjectId: bootstrap.adminProjectId,
        dataDir: config.dataDir,
        log: server.log,
      });
    // Expired tokens and console tokens are refused on use anyway; a failed purge (database busy) waits ten minutes.
    const purge = setInterval(
      () => {
        identity.tokens.purgeExpired().catch(() => {});
        consoles.purgeExpired().catch(() => {});
      },
      10 * 60 * 1000,
    );
    purge.unref();
    // Audit retention is by age; hourly is fine-grained enough for a limit counted in days.
    const auditPrune = setInterval(() => audit.prune().catch((e: unknown) => auditSay(e)), 60 * 60 * 1000);
    auditPrune.unref();
    return {
      deps,
      store,
      server,
      bootstrap,
      computeHost,
      async close() {
        clearInterval(purge);
        network.stopAgents();
        clearInterval(auditPrune);
        await server.close();
        await monitoring.stop();
        await audit.idle();
        await nsAgent?.close();
        await computeHost?.stop();
        await volume.idle();
        hypervisor?.close?.();
        await image.idle();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
