import type { FastifyInstance } from 'fastify';
import type { GureumConfig } from './config.js';
import { openStore, type Store } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { IdentityService } from './services/identity/index.js';
import { bootstrapIdentity, type BootstrapResult } from './services/identity/bootstrap.js';
import { ImageService } from './services/image/index.js';
import { NetworkService, networkOptions, bootstrapNetwork } from './services/network/index.js';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MetadataNsAgent } from './services/metadata/ns-agent.js';
import { resolveHypervisor } from './virt/index.js';
import { createNetDriver, createNftFirewall, chooseDataPlane, LinuxBridgeDriver, netStateDir, tapName, type DataPlaneChoice, type NetDriver } from './net/index.js';
import { ComputeService } from './services/compute/index.js';
import { ImageServiceAdapter, NetworkServiceAdapter } from './services/compute/adapters.js';
import { createHostDriver } from './services/compute/host-setup.js';
import { useQemuImg } from './disk/qemu-img.js';
import { buildServer } from './api/http/server.js';
import { serviceApis } from './api/registry.js';
import type { AppDeps } from './app-deps.js';
import { MetadataService, loopbackUrl } from './services/metadata/index.js';
import { metadataApi } from './api/metadata/index.js';
import { ConsoleService } from './services/console/index.js';
import { consoleApi } from './api/console/index.js';
import { bootstrapTinyImage } from './imaging/tiny/index.js';
import { VolumeService, ImageServicePort, VolumeComputePort } from './services/volume/index.js';
import { FileVolumeBackend } from './storage/file/file-backend.js';
import { hostname } from 'node:os';
import { dataPaths } from './util/paths.js';

/** A running (or ready-to-listen) cloud controller: its dependencies and its HTTP server. */
export interface Controller {
  deps: AppDeps;
  /** The opened store, for tests and tools that set up state directly; the API never sees it. */
  store: Store;
  server: FastifyInstance;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

/** Opens the store, migrates, wires services, bootstraps first-start state and builds the HTTP server. */
export async function createController(config: GureumConfig, opts: { adminPassword?: string } = {}): Promise<Controller> {
  // Everything the cloud writes (images, disks, keys, console logs) and every child it spawns (qemu, qemu-img) makes
  // files for the cloud's user only, whatever umask the process inherited.
  process.umask(0o077);
  useQemuImg(config.disk.qemuImg);
  const store: Store = openStore(config.database.url, config.dataDir);
  try {
    await migrateToLatest(store);
    const identity = new IdentityService({ db: store.db, config: config.identity });
    const bootstrap = await bootstrapIdentity(identity, opts.adminPassword);
    const image = new ImageService({ db: store.db, dataDir: config.dataDir, config: config.image });
    await image.recover();
    const hypervisor = config.compute.runAgent ? resolveHypervisor(config.virt.driver, config.virt.qemuBinary) : 'none';
    const plane = chooseDataPlane(config.net.dataPlane, { isRoot: process.getuid?.() === 0, hypervisor });
    // Data-plane messages wait until the server's logger exists, then go straight to it.
    const netLog: string[] = [];
    let netSay = (m: string): void => { netLog.push(m); };
    const driver = netDriverFor(config, plane, (m) => netSay(m));
    const network = new NetworkService({
      db: store.db, dialect: store.dialect, options: networkOptions(config.network), driver,
      onDriverError: (e) => netSay(`data plane: ${e instanceof Error ? e.message : String(e)}`),
    });
    await bootstrapNetwork(network, bootstrap.adminProjectId);
    await network.resync();
    const metadata = new MetadataService({ db: store.db, dataDir: config.dataDir, secretFile: config.metadata.secretFile, controllerUrl: loopbackUrl(config.server.listen) });
    const hostDriver = createHostDriver(config, image, metadata, plane.plane === 'linuxbridge' ? tapName : undefined);
    let nsAgent: MetadataNsAgent | null = null;
    if (plane.plane === 'linuxbridge') {
      nsAgent = new MetadataNsAgent({ db: store.db, target: () => metadata.nsTarget() });
      await mkdir(netStateDir(config.dataDir), { recursive: true, mode: 0o700 });
      await nsAgent.listen(metadataSocketPath(config));
    }
    const compute = new ComputeService({ db: store.db, dialect: store.dialect, options: config.compute, driver: hostDriver });
    compute.useImagePort(new ImageServiceAdapter(image));
    compute.useNetworkPort(new NetworkServiceAdapter(network));
    const paths = dataPaths(config.dataDir);
    const volume = new VolumeService({
      db: store.db, hostName: hostname(), backupDir: paths.backups,
      backend: new FileVolumeBackend({ dir: paths.volumes, format: config.volume.format, preallocation: config.volume.preallocation }),
      images: new ImageServicePort(image, paths.imageCache),
    });
    await volume.start();
    compute.useVolumePort(new VolumeComputePort(volume.attachments, volume.volumes, volume.snapshots));
    volume.volumes.growAttached = (instanceId, volumeId, bytes) => compute.extendAttachedVolume(instanceId, volumeId, bytes);
    await compute.start();
    // Attaches and detaches a crash interrupted are settled by what the hypervisor actually has.
    await volume.attachments.reconcile((instanceId, volumeId) => compute.volumeAttachedOnHost(instanceId, volumeId));
    for (const api of serviceApis) {
      if (api.catalog === false) continue;
      const url = `${config.server.publicUrl}${api.endpointPath}`;
      await identity.catalog.ensureManaged(api.type, api.name, url, config.server.region);
      for (const also of api.alsoInCatalogAs ?? []) await identity.catalog.ensureManaged(also.type, also.name, url, config.server.region);
    }
    const consoles = new ConsoleService({ db: store.db, driver: () => compute.driver, options: { tokenTtlSec: config.console.tokenTtlSeconds } });
    const deps: AppDeps = { config, identity, image, network, compute, metadata, console: consoles, volume };
    const server = await buildServer(deps, [...serviceApis, metadataApi, consoleApi]);
    server.log.info({ dataPlane: plane.plane, driver: driver.name }, `data plane: ${plane.plane} (${plane.reason})`);
    for (const m of netLog.splice(0)) server.log.info(m);
    netSay = (m) => server.log.info(m);
    if (config.image.tinyImage) await bootstrapTinyImage(image, { adminProjectId: bootstrap.adminProjectId, dataDir: config.dataDir, log: server.log });
    const purge = setInterval(() => { identity.tokens.purgeExpired().catch(() => {}); consoles.purgeExpired().catch(() => {}); }, 10 * 60 * 1000);
    purge.unref();
    return {
      deps, store, server, bootstrap,
      async close() {
        clearInterval(purge);
        await server.close();
        await nsAgent?.close();
        await compute.stop();
        await volume.idle();
        hostDriver?.close?.();
        await image.idle();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** The unix socket where namespace metadata proxies reach this host's metadata agent. */
const metadataSocketPath = (config: GureumConfig): string => join(netStateDir(config.dataDir), 'metadata.sock');

/**
 * The network driver for the chosen data plane. Devices carry a tag from the data dir, so two clouds on one machine
 * (tests) never remove each other's devices.
 */
function netDriverFor(config: GureumConfig, plane: DataPlaneChoice, log: (m: string) => void): NetDriver {
  if (plane.plane !== 'linuxbridge') return createNetDriver(config.net.driver);
  return bridgeDriverFor(config, log);
}

/** This cloud's Linux bridge driver (also for `gureum net purge`, which removes what a stopped cloud left running). */
export function bridgeDriverFor(config: GureumConfig, log: (m: string) => void): LinuxBridgeDriver {
  const n = config.net;
  const tag = createHash('sha256').update(config.dataDir).digest('hex').slice(0, 8);
  return new LinuxBridgeDriver({
    stateDir: netStateDir(config.dataDir), tag,
    // Security groups and anti-spoofing: one pair of nft tables per cloud (data dir), like the devices' tag.
    firewall: createNftFirewall({ table: `gureum_${tag}`, log }),
    metadata: { socket: metadataSocketPath(config), port: 9697 },
    physnets: n.physnets, hostOnlyPhysnets: n.hostOnlyPhysnets, hostGateway: n.hostGateway, vxlanLocalIp: n.vxlanLocalIp || null, log,
  });
}
