import type { HostTask, TaskQueue } from '../../store/task-queue.js';
import type { HypervisorDriver } from '../../virt/index.js';
import type { HostService } from './hosts.js';
import type { ComputeManager } from './manager.js';
import { taskLogLine, type TaskLogger } from './task-log.js';

/**
 * A compute agent: registers its driver's hosts, heartbeats, and claims and runs their tasks. The all-in-one runs
 * one in-process; a remote host would run the same loop against the shared database.
 */
export class ComputeAgent {
  private running = false;
  private inFlight = 0;
  private wake: (() => void) | null = null;
  private stopWork: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private loopDone: Promise<void> | null = null;
  readonly workerId: string;

  constructor(
    private readonly driver: HypervisorDriver,
    private readonly hosts: HostService,
    private readonly queue: TaskQueue,
    private readonly manager: ComputeManager,
    private readonly opts: {
      concurrency: number;
      pollMs?: number;
      workerId: string;
      allHosts: boolean;
      /** Receives one line per finished task (start, end, duration, host, result, the API call's request id). */
      log?: TaskLogger;
    },
  ) {
    this.workerId = opts.workerId;
  }

  async start(): Promise<void> {
    await this.hosts.registerHosts(this.driver.hosts());
    await this.queue.requeueClaimedBy(this.workerId);
    this.running = true;
    this.stopWork = this.queue.onWork(() => this.wake?.());
    this.heartbeatTimer = setInterval(() => {
      this.hosts.heartbeat(this.driver.hosts().map((h) => h.host)).catch(() => {});
    }, 10_000);
    this.heartbeatTimer.unref();
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    const hostNames = this.opts.allHosts ? null : this.driver.hosts().map((h) => h.host);
    while (this.running) {
      let claimed = 0;
      const room = this.opts.concurrency - this.inFlight;
      if (room > 0) {
        try {
          const tasks = await this.queue.claim(this.workerId, hostNames, room);
          claimed = tasks.length;
          for (const t of tasks) {
            this.inFlight++;
            this.runLogged(t)
              .catch(() => {})
              .finally(() => {
                this.inFlight--;
                this.wake?.();
              });
          }
        } catch {
          // The database may be closing; the next round tries again.
        }
      }
      if (claimed === 0 || this.inFlight >= this.opts.concurrency) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.pollMs ?? 500);
          t.unref();
          this.wake = () => {
            clearTimeout(t);
            this.wake = null;
            resolve();
          };
        });
      }
    }
  }

  /** Runs one task and writes its line; the request id is looked up first, so a lookup failure costs no task. */
  private async runLogged(task: HostTask): Promise<void> {
    const log = this.opts.log;
    const requestId = log ? await this.manager.requestIdOf(task).catch(() => null) : null;
    const startedAt = new Date();
    const outcome = await this.manager.run(task);
    log?.(taskLogLine(task, requestId, startedAt, new Date(), outcome));
  }

  /** Stops claiming, waits for running tasks to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopWork?.();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.wake?.();
    await this.loopDone;
    const deadline = Date.now() + 5000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Waits until the queue is empty (tests and benchmarks). */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.inFlight === 0 && (await this.queue.pending()) === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('compute agent: tasks still pending');
  }
}
