// Moving a guest's state out of and back into QEMU: suspend to a file and resume from it (a migration stream over
// a unix socket), a consistent root-disk snapshot, rescue boots, and resize on this host.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { CloudError } from '../../errors.js';
import type { GuestSpec, SnapshotFile } from '../driver.js';
import type { ImageCache } from '../../disk/image-cache.js';
import { createOverlay, flatten, growDisk } from '../../disk/overlay.js';
import type { LaunchSpec } from './cmdline.js';
import { kernelOf } from './guest-build.js';
import { guestAgentFreeze, guestAgentThaw } from './guest-agent.js';
import type { GuestProcesses } from './guest-processes.js';
import { GiB } from './host-facts.js';
import type { InstanceFiles, InstanceState } from './instance-files.js';

/** Names of the temporary snapshot files in an instance folder. */
const SNAPSHOT_FILE = /^snapshot-[0-9a-f]{12}\.qcow2$/;

/** What these operations work on: the instances' files, their processes, the base-image cache. */
export interface GuestStore {
  files: InstanceFiles;
  procs: GuestProcesses;
  cache: ImageCache;
}

/** Saves memory and device state to a file over a migration socket; the process ends and frees the host. */
export async function suspendGuest(g: GuestStore, host: string, id: string, st: InstanceState): Promise<void> {
  const p = g.files.paths(id);
  const m = await g.procs.mustMonitor(id, host);
  await rm(p.migrateOut, { force: true });
  const tmp = `${p.suspendState}.part`;
  let server: Server | null = null;
  const received = new Promise<void>((resolve, reject) => {
    server = createServer((sock) => {
      const out = createWriteStream(tmp);
      sock.pipe(out);
      out.on('finish', () => resolve());
      out.on('error', reject);
      sock.on('error', reject);
    });
    server.on('error', reject);
    server.listen(p.migrateOut);
  });
  try {
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    await m.run('migrate-set-parameters', { 'max-bandwidth': 8 * GiB });
    await m.migrate(`unix:${p.migrateOut}`);
    for (;;) {
      const q = await m.queryMigrate();
      if (q.status === 'completed') break;
      if (q.status === 'failed' || q.status === 'cancelled')
        throw new Error(`suspend failed: ${q['error-desc'] ?? q.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await received;
    await rename(tmp, p.suspendState);
    await g.files.writeState(id, { ...st, suspended: true });
    await g.procs.stop(id, 0);
  } catch (e) {
    await rm(tmp, { force: true });
    // The guest goes on running where it was; the suspend's own error is the one the caller sees.
    const mm = await g.procs.monitor(id).catch(() => null);
    if (mm) await mm.cont().catch(() => {}); // a guest that cannot continue is reported by the power sync
    throw e;
  } finally {
    (server as Server | null)?.close();
    await rm(p.migrateOut, { force: true });
  }
}

/** Starts QEMU waiting for incoming state and streams the saved file into it. */
export async function resumeGuest(g: GuestStore, host: string, id: string, st: InstanceState): Promise<void> {
  const p = g.files.paths(id);
  if (!st.suspended || !existsSync(p.suspendState)) {
    if (await g.procs.pidOf(id)) return;
    throw new CloudError('Conflict', `Instance ${id} has no saved state to resume from.`);
  }
  await g.procs.launch(id, st, { incomingSocket: p.migrateIn });
  await new Promise<void>((resolve, reject) => {
    const sock = connect(p.migrateIn);
    sock.once('error', reject);
    sock.once('connect', () => {
      const src = createReadStream(p.suspendState);
      src.once('error', reject);
      src.pipe(sock);
      sock.once('close', () => resolve());
    });
  });
  const m = await g.procs.mustMonitor(id, host);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await m.queryStatus();
    if (s.status === 'running') break;
    if (s.status === 'paused' || s.status === 'postmigrate') {
      await m.cont();
      break;
    }
    if (Date.now() > deadline) throw new Error(`resume did not finish (status ${s.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await rm(p.suspendState, { force: true });
  await g.files.writeState(id, { ...st, suspended: false });
}

/**
 * A consistent copy of the root disk: file systems frozen by the guest agent when one answers, else the guest
 * paused (which flushes its disks); the chain flattened into one qcow2 file in the instance folder; the guest back
 * as it was before `consume` streams the file out; the file removed whatever happens.
 */
export async function snapshotGuest(
  g: GuestStore,
  id: string,
  st: InstanceState,
  consume: (file: SnapshotFile) => Promise<void>,
): Promise<void> {
  const p = g.files.paths(id);
  // A snapshot interrupted by a restart left its file: nothing else can be using it (one task per instance).
  for (const f of await readdir(p.dir).catch(() => [] as string[]))
    if (SNAPSHOT_FILE.test(f)) await rm(join(p.dir, f), { force: true });
  const m = await g.procs.monitor(id);
  let resume: (() => Promise<void>) | null = null;
  if (m) {
    if (st.guestAgent && (await guestAgentFreeze(p.qga))) {
      resume = () => guestAgentThaw(p.qga);
    } else {
      const s = await m.queryStatus();
      if (s.running) {
        await m.stop();
        resume = () => m.cont();
      }
    }
  }
  const out = join(p.dir, `snapshot-${randomBytes(6).toString('hex')}.qcow2`);
  try {
    try {
      await flatten(p.root, out);
    } finally {
      if (resume) await resume();
    }
    await consume({ diskFormat: 'qcow2', path: out, size: (await stat(out)).size });
  } finally {
    await rm(out, { force: true });
  }
}

/** Boots the rescue image with the instance's own disk attached second. */
export async function rescueGuest(g: GuestStore, id: string, st: InstanceState, rescueImageId: string): Promise<void> {
  const p = g.files.paths(id);
  await g.procs.stop(id, 0);
  const base = await g.cache.get(rescueImageId);
  const rescueDisk = join(p.dir, 'disk.rescue');
  await rm(rescueDisk, { force: true });
  await createOverlay(rescueDisk, base.path, base.format, base.virtualSize);
  const own = st.launch.disks.map((d) => ({ ...d, boot: false }));
  const kernel = await kernelOf(g.cache, base.image.properties);
  const launch: LaunchSpec = {
    ...st.launch,
    disks: [{ id: 'rescue', path: rescueDisk, format: 'qcow2', boot: true }, ...own],
  };
  if (kernel) launch.kernel = kernel;
  else delete launch.kernel;
  await g.procs.launch(id, { ...st, launch });
  await g.files.writeState(id, { ...st, launch: { ...st.launch } });
  await writeFile(join(p.dir, 'rescued'), JSON.stringify(launch));
}

/** Stops the rescue boot, drops its disk and boots the instance's own launch spec again. */
export async function unrescueGuest(g: GuestStore, id: string, st: InstanceState): Promise<void> {
  const p = g.files.paths(id);
  await g.procs.stop(id, 0);
  await rm(join(p.dir, 'disk.rescue'), { force: true });
  await rm(join(p.dir, 'rescued'), { force: true });
  await g.procs.launch(id, st);
}

/**
 * Resize on this host: the guest stops, the local root disk grows (never shrinks; a root volume is the volume
 * service's to extend), it boots with the new sizes if it ran.
 */
export async function resizeGuest(g: GuestStore, id: string, st: InstanceState, spec: GuestSpec): Promise<void> {
  const wasRunning = !!(await g.procs.pidOf(id));
  await g.procs.stop(id, wasRunning ? (spec.shutdownTimeoutSec ?? 60) : 0);
  const p = g.files.paths(id);
  if (spec.rootGb > 0 && !spec.rootVolume) await growDisk(p.root, spec.rootGb * GiB);
  const next: InstanceState = {
    ...st,
    spec: { ...spec, nics: st.spec.nics },
    launch: { ...st.launch, vcpus: spec.vcpus, memoryMb: spec.memoryMb },
  };
  await g.files.writeState(id, next);
  if (wasRunning) await g.procs.launch(id, next);
}
