// The drivers this host runs, chosen from the config: the network data plane (net), the hypervisor (virt) and the
// volume backend (storage). Only the composition root calls these; services receive what they build.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { GureumConfig } from '../config.js';
import {
  createNetDriver,
  createNftFirewall,
  LinuxBridgeDriver,
  netStateDir,
  type DataPlaneChoice,
  type NetDriver,
} from '../net/index.js';
import { FakeDriver, QemuDriver, resolveHypervisor, type HypervisorDriver } from '../virt/index.js';
import { FileVolumeBackend } from '../storage/file/file-backend.js';
import type { ImageService } from '../services/image/index.js';
import { imageSourceOf, type GuestMetadataPort } from '../services/compute/host-setup.js';
import { dataPaths } from '../util/paths.js';

/** The unix socket where namespace metadata proxies reach this host's metadata agent. */
export const metadataSocketPath = (config: GureumConfig): string => join(netStateDir(config.dataDir), 'metadata.sock');

/**
 * The network driver for the chosen data plane. Devices carry a tag from the data dir, so two clouds on one machine
 * (tests) never remove each other's devices.
 */
export function netDriverFor(config: GureumConfig, plane: DataPlaneChoice, log: (m: string) => void): NetDriver {
  if (plane.plane !== 'linuxbridge') return createNetDriver(config.net.driver);
  return bridgeDriverFor(config, log);
}

/** This cloud's Linux bridge driver (also for `gureum net purge`, which removes what a stopped cloud left running). */
export function bridgeDriverFor(config: GureumConfig, log: (m: string) => void): LinuxBridgeDriver {
  const n = config.net;
  const tag = createHash('sha256').update(config.dataDir).digest('hex').slice(0, 8);
  return new LinuxBridgeDriver({
    stateDir: netStateDir(config.dataDir),
    tag,
    // Security groups and anti-spoofing: one pair of nft tables per cloud (data dir), like the devices' tag.
    firewall: createNftFirewall({ table: `gureum_${tag}`, log }),
    metadata: { socket: metadataSocketPath(config), port: 9697 },
    physnets: n.physnets,
    hostOnlyPhysnets: n.hostOnlyPhysnets,
    hostGateway: n.hostGateway,
    vxlanLocalIp: n.vxlanLocalIp || null,
    log,
  });
}

/** A kernel for the KVM proof: virt.probeKernel, else the tiny image's kernel once it is built. */
function probeKernel(configured: string, dataDir: string): { kernel: string } | null {
  if (configured && existsSync(configured)) return { kernel: configured };
  try {
    const dir = dataPaths(dataDir).tinyCache;
    const tiny = join(dir, 'builds', readFileSync(join(dir, 'latest'), 'utf8').trim(), 'vmlinuz');
    return existsSync(tiny) ? { kernel: tiny } : null;
  } catch {
    // No tiny build yet (no `latest` file): the KVM proof has no kernel and the driver uses TCG.
    return null;
  }
}

/**
 * This host's hypervisor driver, as virt.driver says (`auto`: QEMU where it exists, else fake); null when this
 * process runs no compute agent (compute.runAgent false). `taps`: bridged networking (the data plane's tap of each
 * port); absent: QEMU user networking.
 */
export function hostHypervisor(
  config: GureumConfig,
  image: ImageService,
  metadata?: GuestMetadataPort,
  taps?: (portId: string) => string,
): HypervisorDriver | null {
  if (!config.compute.runAgent) return null;
  const virt = config.virt;
  if (resolveHypervisor(virt.driver, virt.qemuBinary) === 'fake') {
    const f = virt.fake;
    // One simulated host under the default name takes this machine's name, as a real compute host would.
    const hostName = f.hosts === 1 && f.hostName === 'gureum-compute' ? hostname() : f.hostName;
    return new FakeDriver({ hosts: f.hosts, hostName, vcpus: f.vcpus, memoryMb: f.memoryMb, localGb: f.localGb });
  }
  return new QemuDriver({
    dataDir: config.dataDir,
    accel: virt.accel,
    binary: virt.qemuBinary,
    images: () => imageSourceOf(image),
    probeKernel: () => probeKernel(virt.probeKernel, config.dataDir),
    ...(taps ? { tapName: taps, configDriveWithTaps: true } : {}),
    ...(metadata
      ? {
          metadataCommand: (id: string) => metadata.proxyCommand(id),
          configDrive: (spec, dest) => metadata.writeConfigDrive(spec.instanceId, dest),
        }
      : {}),
  });
}

/** Where volumes live: files under the data dir, in the configured format. */
export function volumeBackend(config: GureumConfig): FileVolumeBackend {
  return new FileVolumeBackend({
    dir: dataPaths(config.dataDir).volumes,
    format: config.volume.format,
    preallocation: config.volume.preallocation,
  });
}
