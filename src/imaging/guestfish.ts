// One libguestfs appliance per session, driven by `guestfish --listen` and `guestfish --remote=PID CMD ARGS...`.
// Every argument travels as its own argv entry (no shell, no guestfish quoting), so file names read from an
// untrusted guest cannot inject commands. The guest's filesystems are mounted inside the appliance, never by
// the host kernel. Only single-string arguments are used: guestfish re-splits list arguments on spaces.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, inherited } from '../util/host-env.js';

/** Environment libguestfs needs on these machines (see docs/image-factory.md): direct backend, TCG unless told. */
export function guestfsEnv(): NodeJS.ProcessEnv {
  return childEnv({
    LIBGUESTFS_BACKEND: inherited('LIBGUESTFS_BACKEND') ?? 'direct',
    LIBGUESTFS_BACKEND_SETTINGS: inherited('LIBGUESTFS_BACKEND_SETTINGS') ?? 'force_tcg',
  });
}

/** A libguestfs command that failed, with what the appliance said. */
export class GuestfsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestfsError';
  }
}

/** What `lstatns` says about one path. */
export interface GuestStat {
  mode: number;
  size: number;
  uid: number;
  gid: number;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

const MARK = '@@gureum-mark@@';

/** One running guestfish server with one disk attached. */
export class GuestfishSession {
  private dead = false;
  private readonly scratch: string;

  private constructor(
    readonly pid: number,
    private readonly stderr: { text: string; stream?: { destroy(): void } },
    readonly readonly: boolean,
  ) {
    this.scratch = mkdtempSync(join(tmpdir(), 'gureum-gf-'));
  }

  /** Starts the server with `disk` attached (format given explicitly, never guessed) and launches the appliance. */
  static async start(
    disk: string,
    format: string,
    opts: { readonly: boolean; timeoutMs?: number },
  ): Promise<GuestfishSession> {
    const args = ['--listen', ...(opts.readonly ? ['--ro'] : []), `--format=${format}`, '-a', disk];
    const stderr: { text: string; stream?: NodeJS.ReadableStream & { destroy(): void } } = { text: '' };
    const pid = await new Promise<number>((resolve, reject) => {
      const child = spawn('guestfish', args, { env: guestfsEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      // The forked server keeps this pipe: its error messages arrive here for the whole session.
      child.stderr.on('data', (b: Buffer) => {
        stderr.text = (stderr.text + b.toString()).slice(-16_384);
      });
      stderr.stream = child.stderr;
      child.on('error', (e) =>
        reject(new GuestfsError(`cannot run guestfish (install libguestfs-tools): ${e.message}`)),
      );
      // Not 'close': the forked server keeps the pipes open. The parent prints the PID, then exits.
      let exited: number | null | undefined;
      const settle = () => {
        const m = /GUESTFISH_PID=(\d+)/.exec(out);
        if (exited === 0 && m) resolve(Number(m[1]));
        else if (exited !== undefined && exited !== 0)
          reject(new GuestfsError(`guestfish --listen failed: ${stderr.text.trim() || `exit ${exited}`}`));
      };
      child.stdout.on('data', settle);
      child.on('exit', (code) => {
        exited = code;
        settle();
        setTimeout(() => {
          if (!/GUESTFISH_PID=/.test(out))
            reject(new GuestfsError(`guestfish --listen printed no PID: ${stderr.text.trim()}`));
        }, 2000);
      });
    });
    const s = new GuestfishSession(pid, stderr, opts.readonly);
    try {
      // The --listen parent prints the PID and exits before the forked server has always bound its socket; under
      // load the first remote call can come too early ("No such file or directory ... server is not running").
      for (let waited = 0; ; waited += 250) {
        try {
          await s.call(['run'], opts.timeoutMs ?? 600_000);
          break;
        } catch (e) {
          const early = /No such file or directory|server is not running/.test((e as Error).message);
          if (!early || waited >= 15_000) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** Runs one command; a failure ends the server (guestfish's rule), so the session is unusable afterwards. */
  async call(cmd: string[], timeoutMs = 600_000): Promise<string> {
    return this.remote(cmd, timeoutMs);
  }

  /**
   * Runs commands that cannot fail (exists, is-*, lstatns on paths just listed, ...) in one round trip and
   * returns each one's output.
   */
  async batch(cmds: string[][], chunk = 200): Promise<string[]> {
    const results: string[] = [];
    for (let i = 0; i < cmds.length; i += chunk) {
      const part = cmds.slice(i, i + chunk);
      const argv: string[] = [];
      part.forEach((c, j) => {
        if (j > 0) argv.push(':');
        argv.push(...c, ':', 'echo', `${MARK}${j}`);
      });
      const out = await this.remote(argv, 600_000);
      const pieces = out.split(new RegExp(`^${MARK}\\d+\\n`, 'm'));
      results.push(...pieces.slice(0, part.length));
    }
    return results;
  }

  private remote(argv: string[], timeoutMs: number): Promise<string> {
    if (this.dead) return Promise.reject(new GuestfsError('the libguestfs session already failed'));
    for (const a of argv) {
      if (a.includes('\0')) return Promise.reject(new GuestfsError('argument contains a NUL byte'));
    }
    const before = this.stderr.text.length;
    return new Promise((resolve, reject) => {
      execFile(
        'guestfish',
        [`--remote=${this.pid}`, '--', ...argv],
        { env: guestfsEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (!err) return resolve(String(stdout));
          this.dead = true;
          // The server writes its error to the pipe we hold; give it a moment to arrive.
          setTimeout(() => {
            const msg = (this.stderr.text.slice(before) || String(stderr) || err.message)
              .trim()
              .split('\n')
              .slice(-3)
              .join(' ');
            reject(new GuestfsError(`${argv[0]} failed: ${msg}`));
          }, 100);
        },
      );
    });
  }

  // --- typed helpers (names follow the guestfish commands)

  async exists(path: string): Promise<boolean> {
    return (await this.call(['exists', path])).trim() === 'true';
  }

  /** `lstatns` of many paths in one round trip; paths must exist (list them first). */
  async lstatMany(paths: string[]): Promise<GuestStat[]> {
    const outs = await this.batch(paths.map((p) => ['lstatns', p]));
    return outs.map(parseStat);
  }

  /** Stat of a path, or undefined when it does not exist (no symlink is followed). */
  async lstat(path: string): Promise<GuestStat | undefined> {
    const [link, ex] = await this.batch([
      ['is-symlink', path],
      ['exists', path],
    ]);
    if (link!.trim() !== 'true' && ex!.trim() !== 'true') return undefined;
    return parseStat(await this.call(['lstatns', path]));
  }

  /** Every path below `dir` (relative to it, NUL-separated by guestfish so any name survives); [] when absent. */
  async find(dir: string): Promise<string[]> {
    if ((await this.call(['is-dir', dir])).trim() !== 'true') return [];
    const local = join(this.scratch, 'find0');
    await this.call(['find0', dir, local]);
    // find0 names are relative to `dir` but keep a leading "/" unless `dir` is "/".
    const names = readFileSync(local)
      .toString('utf8')
      .split('\0')
      .map((n) => n.replace(/^\/+/, ''))
      .filter(Boolean);
    rmSync(local, { force: true });
    return names;
  }

  /** Names directly inside `dir` (regular listing); [] when absent. */
  async ls(dir: string): Promise<string[]> {
    return (await this.find(dir)).filter((n) => !n.includes('/'));
  }

  /** Reads a file's bytes (via download to a private temp file). */
  async read(path: string): Promise<Buffer> {
    const local = join(this.scratch, 'download');
    await this.call(['download', path, local]);
    const data = readFileSync(local);
    rmSync(local, { force: true });
    return data;
  }

  /** Replaces a file's content, keeping its inode (mode, owner, labels). */
  async write(path: string, data: Buffer | string): Promise<void> {
    const local = join(this.scratch, 'upload');
    writeFileSync(local, data, { mode: 0o600 });
    await this.call(['upload', local, path]);
    rmSync(local, { force: true });
  }

  /** Stops the appliance and the server; safe to call twice. */
  async close(): Promise<void> {
    if (!this.dead) {
      this.dead = true;
      await new Promise<void>((resolve) => {
        execFile('guestfish', [`--remote=${this.pid}`, '--', 'exit'], { env: guestfsEnv(), timeout: 60_000 }, () =>
          resolve(),
        );
      });
    }
    try {
      process.kill(this.pid, 0);
      process.kill(this.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    this.stderr.stream?.destroy();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** Parses guestfish's printout of a `statns` struct. */
export function parseStat(text: string): GuestStat {
  const field = (name: string): number => {
    const m = new RegExp(`^\\s*${name}: (-?\\d+)$`, 'm').exec(text);
    if (!m) throw new GuestfsError(`unexpected lstatns output: ${text.slice(0, 200)}`);
    return Number(m[1]);
  };
  return { mode: field('st_mode'), size: field('st_size'), uid: field('st_uid'), gid: field('st_gid') };
}

export const isReg = (s: GuestStat) => (s.mode & S_IFMT) === S_IFREG;
export const isDir = (s: GuestStat) => (s.mode & S_IFMT) === S_IFDIR;
export const isLink = (s: GuestStat) => (s.mode & S_IFMT) === S_IFLNK;
