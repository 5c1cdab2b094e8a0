// Where one instance's files live, and its persisted launch state (what a restart needs to re-attach or relaunch).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestSpec } from '../driver.js';
import type { LaunchSpec } from './cmdline.js';

/** The files of one instance. Sockets go to a short directory when the data dir is too deep for sun_path. */
export interface InstancePaths {
  dir: string;
  sockDir: string;
  root: string;
  ephemeral: string;
  swap: string;
  configDrive: string;
  console: string;
  pid: string;
  state: string;
  suspendState: string;
  qmp: string;
  vnc: string;
  qga: string;
  migrateOut: string;
  migrateIn: string;
  stderr: string;
}

/** What is written next to the disks so the driver survives its own restart. */
export interface InstanceState {
  spec: GuestSpec;
  launch: LaunchSpec;
  /** Loopback port forwarded to the guest's port 22 (user networking). */
  sshPort: number | null;
  /** The guest's own address inside user networking. */
  guestAddress: string | null;
  /** Cache key of the root disk's base. */
  baseKey: string | null;
  /** True while the memory state sits in suspendState and no process runs. */
  suspended: boolean;
  /** The image says a qemu-guest-agent runs inside (hw_qemu_guest_agent=yes): the channel is there and asked. */
  guestAgent?: boolean;
}

/** Paths for instances under `dataDir/instances`. */
export class InstanceFiles {
  readonly root: string;
  private readonly sockRoot: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'instances');
    // sun_path holds 107 bytes; "<root>/<uuid>/qmp.sock" must fit.
    const deep = join(this.root, '00000000-0000-0000-0000-000000000000', 'migrate-out.sock').length > 100;
    this.sockRoot = deep
      ? join(tmpdir(), `gureum-${createHash('sha1').update(dataDir).digest('hex').slice(0, 10)}`)
      : this.root;
  }

  paths(id: string): InstancePaths {
    const dir = join(this.root, id);
    const sockDir = join(this.sockRoot, id);
    return {
      dir,
      sockDir,
      root: join(dir, 'disk.qcow2'),
      ephemeral: join(dir, 'disk.eph0'),
      swap: join(dir, 'disk.swap'),
      configDrive: join(dir, 'disk.config'),
      console: join(dir, 'console.log'),
      pid: join(dir, 'qemu.pid'),
      state: join(dir, 'state.json'),
      suspendState: join(dir, 'suspend.state'),
      stderr: join(dir, 'qemu.stderr'),
      qmp: join(sockDir, 'qmp.sock'),
      vnc: join(sockDir, 'vnc.sock'),
      qga: join(sockDir, 'qga.sock'),
      migrateOut: join(sockDir, 'migrate-out.sock'),
      migrateIn: join(sockDir, 'migrate-in.sock'),
    };
  }

  async create(id: string): Promise<InstancePaths> {
    const p = this.paths(id);
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    await mkdir(p.sockDir, { recursive: true, mode: 0o700 });
    return p;
  }

  async readState(id: string): Promise<InstanceState | null> {
    try {
      return JSON.parse(await readFile(this.paths(id).state, 'utf8')) as InstanceState;
    } catch {
      return null;
    }
  }

  async writeState(id: string, s: InstanceState): Promise<void> {
    const p = this.paths(id).state;
    await writeFile(`${p}.tmp`, JSON.stringify(s, null, 1));
    await rename(`${p}.tmp`, p);
  }

  /** Removes everything of the instance: disks, logs, sockets, state. */
  async remove(id: string): Promise<void> {
    const p = this.paths(id);
    await rm(p.dir, { recursive: true, force: true });
    await rm(p.sockDir, { recursive: true, force: true });
  }
}
