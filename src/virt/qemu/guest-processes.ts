// One QEMU process per instance: starting it from its saved launch spec, finding it again after a restart, its
// QMP monitor, and ending it (ACPI, then quit, then SIGKILL).
import { rm } from 'node:fs/promises';
import { CloudError } from '../../errors.js';
import type { AccelChoice } from './accel.js';
import { buildCommandLine, type LaunchSpec } from './cmdline.js';
import { freePort } from './host-facts.js';
import type { InstanceFiles, InstanceState } from './instance-files.js';
import { isOurProcess, killHard, launchDaemon, readPid, waitGone } from './process.js';
import { QmpClient } from './qmp.js';

export class GuestProcesses {
  private readonly monitors = new Map<string, QmpClient>();

  constructor(
    private readonly files: InstanceFiles,
    private readonly binary: string,
    private readonly accel: () => Promise<AccelChoice>,
  ) {}

  /** The pid of the instance's QEMU when it runs (checked against its command line, not just the pidfile). */
  async pidOf(id: string): Promise<number | null> {
    const p = this.files.paths(id);
    const pid = await readPid(p.pid);
    return pid && isOurProcess(pid, p.pid) ? pid : null;
  }

  /** The monitor of a running instance (re-attached over its socket when needed); null when no process runs. */
  async monitor(id: string): Promise<QmpClient | null> {
    const m = this.monitors.get(id);
    if (m && !m.isClosed) return m;
    if (!(await this.pidOf(id))) return null;
    const c = await QmpClient.connect(this.files.paths(id).qmp);
    this.monitors.set(id, c);
    c.events.once('close', () => {
      if (this.monitors.get(id) === c) this.monitors.delete(id);
    });
    return c;
  }

  async mustMonitor(id: string, host: string): Promise<QmpClient> {
    const m = await this.monitor(id);
    if (!m)
      throw new CloudError('Conflict', `Instance ${id} is not running on ${host}.`, { code: 'InstanceNotRunning' });
    return m;
  }

  /** Ends the process: ACPI first when `graceSec` > 0, then quit, then SIGKILL. */
  async stop(id: string, graceSec: number): Promise<void> {
    const p = this.files.paths(id);
    const pid = await this.pidOf(id);
    if (!pid) return;
    const m = await this.monitor(id).catch(() => null);
    // Each step below is best effort: the next, harder one follows whatever the guest or QEMU answered.
    if (m && graceSec > 0) {
      const st = await m.queryStatus().catch(() => null);
      if (st?.status === 'paused') await m.cont().catch(() => {});
      await m.systemPowerdown().catch(() => {});
      await m.waitClose(graceSec * 1000);
    }
    if (m && !m.isClosed) await m.quit().catch(() => {});
    if (!(await waitGone(pid, p.pid, 5000))) await killHard(pid, p.pid);
    this.monitors.get(id)?.close();
    this.monitors.delete(id);
    await rm(p.pid, { force: true });
  }

  /** Starts QEMU from the saved launch spec; picks a new SSH port when the old one is taken. */
  async launch(id: string, st: InstanceState, extra: Partial<LaunchSpec> = {}): Promise<void> {
    const p = this.files.paths(id);
    await rm(p.pid, { force: true });
    for (const s of [p.qmp, p.vnc, p.qga, p.migrateIn]) await rm(s, { force: true });
    for (let attempt = 1; ; attempt++) {
      const launch: LaunchSpec = { ...st.launch, ...extra, accel: (await this.accel()).accel };
      try {
        await launchDaemon(this.binary, buildCommandLine(launch));
        await this.files.writeState(id, { ...st, launch: { ...st.launch, accel: launch.accel } });
        return;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (attempt < 4 && st.sshPort && /host forwarding|hostfwd|Address already in use/i.test(msg)) {
          st = await withNewSshPort(st);
          continue;
        }
        throw e;
      }
    }
  }

  /** Closes every monitor (the QEMU processes keep running). */
  closeMonitors(): void {
    for (const m of this.monitors.values()) m.close();
    this.monitors.clear();
  }
}

async function withNewSshPort(st: InstanceState): Promise<InstanceState> {
  const port = await freePort();
  const nics = st.launch.nics.map((n) =>
    n.backend.kind === 'user' && n.backend.hostForwards.length
      ? {
          ...n,
          backend: {
            ...n.backend,
            hostForwards: n.backend.hostForwards.map((f) => (f.guestPort === 22 ? { ...f, hostPort: port } : f)),
          },
        }
      : n,
  );
  return { ...st, sshPort: port, launch: { ...st.launch, nics } };
}
