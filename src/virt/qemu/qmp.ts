// A QMP (QEMU Machine Protocol) client over a unix socket: one reader loop, replies matched to commands by id.
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

/** An asynchronous event QEMU sent (STOP, RESUME, SHUTDOWN, ...). */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** A command QEMU answered with an error (the process is alive). */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** The monitor is gone: QEMU exited or the socket closed. */
export class QmpDisconnectedError extends Error {
  constructor(message = 'QEMU monitor disconnected (QEMU died?)') {
    super(message);
    this.name = 'QmpDisconnectedError';
  }
}

/** `query-status` answer. */
export interface QmpStatus {
  running: boolean;
  singlestep?: boolean;
  /**
   * running, paused, shutdown, suspended, inmigrate, postmigrate, prelaunch, finish-migrate, internal-error, io-error,
   * ...
   */
  status: string;
}

/** One vCPU in `query-cpus-fast` (only the fields used). */
export interface QmpCpu {
  'cpu-index': number;
  'thread-id': number;
}

/** One block backend in `query-blockstats` (only the fields used). */
export interface QmpBlockStats {
  /** The -drive id; empty for a node added with blockdev-add (then `node-name` or `qdev` names it). */
  device?: string;
  'node-name'?: string;
  qdev?: string;
  stats: {
    rd_bytes: number;
    wr_bytes: number;
    rd_operations: number;
    wr_operations: number;
    failed_rd_operations?: number;
    failed_wr_operations?: number;
  };
}

/** `query-migrate` answer (only the fields used). */
export interface QmpMigrationInfo {
  status?: string;
  'error-desc'?: string;
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A connected QMP monitor. `events` emits 'event' (QmpEvent) and 'close'. Every pending command rejects with
 * QmpDisconnectedError when the socket closes.
 */
export class QmpClient {
  readonly events = new EventEmitter();
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private buffer = '';
  private closed = false;
  private greeting: Record<string, unknown> | null = null;
  private onGreeting: ((g: Record<string, unknown>) => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.shutdown());
  }

  /** Connects, reads the greeting and negotiates capabilities (`qmp_capabilities`). */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const t = setTimeout(() => {
        s.destroy();
        reject(new QmpDisconnectedError(`QMP connect to ${path} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new QmpDisconnectedError(`QMP connect to ${path}: ${e.message}`));
      });
    });
    const c = new QmpClient(socket);
    try {
      await c.waitGreeting(timeoutMs);
      await c.qmpCapabilities();
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private waitGreeting(timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.greeting) return Promise.resolve(this.greeting);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.onGreeting = null;
        reject(new QmpDisconnectedError('no QMP greeting'));
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(t);
        reject(new QmpDisconnectedError('monitor closed before its greeting'));
      };
      this.events.once('close', onClose);
      this.onGreeting = (g) => {
        clearTimeout(t);
        this.events.off('close', onClose);
        resolve(g);
      };
    });
  }

  /** The QEMU version from the greeting, e.g. 7002022 for 7.2.22. */
  version(): number {
    const q = (
      this.greeting?.QMP as { version?: { qemu?: { major: number; minor: number; micro: number } } } | undefined
    )?.version?.qemu;
    return q ? q.major * 1_000_000 + q.minor * 1000 + q.micro : 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // a monitor never sends this; ignore rather than kill the loop
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.greeting = msg;
      this.onGreeting?.(msg);
      this.onGreeting = null;
      return;
    }
    if (typeof msg.event === 'string') {
      this.events.emit('event', msg as unknown as QmpEvent);
      return;
    }
    const id = msg.id === undefined ? undefined : String(msg.id);
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return;
    this.pending.delete(id);
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      p.reject(new QmpCommandError(p.command, err.class ?? 'GenericError', err.desc ?? ''));
    } else {
      p.resolve(msg.return);
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    const e = new QmpDisconnectedError();
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.events.emit('close');
  }

  /** Sends one command and waits for its reply. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new QmpDisconnectedError());
    const id = `g${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.socket.write(
        `${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`,
      );
    });
  }

  /**
   * Runs a command; when it fails, a ping (`query-status`) tells a dead QEMU (QmpDisconnectedError) from a command
   * QEMU refused (the original error).
   */
  async run<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    try {
      return await this.execute<T>(command, args, timeoutMs);
    } catch (e) {
      if (e instanceof QmpDisconnectedError) throw e;
      const alive = await this.execute('query-status', undefined, 2000).then(
        () => true,
        () => false,
      );
      if (!alive) throw new QmpDisconnectedError(`QEMU died during ${command}`);
      throw e;
    }
  }

  /** Waits for the next event of that name (or the close), up to timeoutMs; resolves null on timeout/close. */
  waitEvent(name: string, timeoutMs: number): Promise<QmpEvent | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (v: QmpEvent | null) => {
        clearTimeout(t);
        this.events.off('event', onEvent);
        this.events.off('close', onClose);
        resolve(v);
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event === name) done(e);
      };
      const onClose = () => done(null);
      const t = setTimeout(() => done(null), timeoutMs);
      this.events.on('event', onEvent);
      this.events.once('close', onClose);
    });
  }

  /** Resolves when the socket closes (QEMU exited), or false after timeoutMs. */
  waitClose(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.events.off('close', onClose);
        resolve(false);
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.events.once('close', onClose);
    });
  }

  close(): void {
    this.socket.destroy();
    this.shutdown();
  }

  // --- one method per command

  /** Leaves capabilities negotiation mode (done by connect). */
  qmpCapabilities(): Promise<void> {
    return this.execute('qmp_capabilities');
  }

  /** Pauses the vCPUs (and flushes the disks). */
  stop(): Promise<void> {
    return this.run('stop');
  }

  /** Resumes the vCPUs. */
  cont(): Promise<void> {
    return this.run('cont');
  }

  /** Presses the ACPI power button. */
  systemPowerdown(): Promise<void> {
    return this.run('system_powerdown');
  }

  /** Resets the machine (hard reboot). */
  systemReset(): Promise<void> {
    return this.run('system_reset');
  }

  queryStatus(): Promise<QmpStatus> {
    return this.run<QmpStatus>('query-status');
  }

  /** The vCPUs and their host thread ids (for per-vCPU CPU time from /proc). */
  queryCpusFast(): Promise<QmpCpu[]> {
    return this.run<QmpCpu[]>('query-cpus-fast');
  }

  /** I/O counters of every block backend. */
  queryBlockstats(): Promise<QmpBlockStats[]> {
    return this.run<QmpBlockStats[]>('query-blockstats');
  }

  /** The balloon's current guest RAM in bytes; fails when the guest has no balloon device. */
  async queryBalloon(): Promise<number> {
    return (await this.run<{ actual: number }>('query-balloon')).actual;
  }

  /** Ends QEMU at once; resolves when it acknowledged (the socket closes soon after). */
  async quit(): Promise<void> {
    try {
      await this.execute('quit', undefined, 5000);
    } catch (e) {
      if (!(e instanceof QmpDisconnectedError)) throw e;
    }
  }

  /** Starts an outgoing migration (suspend: to a unix socket whose peer writes a state file). */
  migrate(uri: string): Promise<void> {
    return this.run('migrate', { uri });
  }

  queryMigrate(): Promise<QmpMigrationInfo> {
    return this.run<QmpMigrationInfo>('query-migrate');
  }

  /** Sets migration capabilities, e.g. {capability: 'auto-converge', state: true}. */
  migrateSetCapabilities(capabilities: { capability: string; state: boolean }[]): Promise<void> {
    return this.run('migrate-set-capabilities', { capabilities });
  }

  /** Human monitor passthrough, for commands QMP lacks. */
  humanMonitorCommand(commandLine: string): Promise<string> {
    return this.run<string>('human-monitor-command', { 'command-line': commandLine });
  }

  /** Hot-adds a device (NIC hot-plug). */
  deviceAdd(args: Record<string, unknown>): Promise<void> {
    return this.run('device_add', args);
  }

  deviceDel(id: string): Promise<void> {
    return this.run('device_del', { id });
  }

  /** Adds a host network backend (netdev_add). */
  netdevAdd(args: Record<string, unknown>): Promise<void> {
    return this.run('netdev_add', args);
  }

  netdevDel(id: string): Promise<void> {
    return this.run('netdev_del', { id });
  }
}
