// What the sealing operations need from a guest filesystem, with two implementations: a libguestfs session
// (any image, trusted or not) and a host directory (the root tree `build` makes itself, and unit tests).
import { lstat, readdir, readFile, rm, symlink, truncate, writeFile, utimes } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { GuestfishSession, GuestStat } from './guestfish.js';

/** A change a sealing operation makes to one path. */
export type Action =
  | { kind: 'delete' }
  | { kind: 'truncate' }
  | { kind: 'write'; content: string }
  | { kind: 'symlink'; target: string }
  | { kind: 'touch' };

/** Read access plus the few changes sealing makes. Paths are absolute inside the guest. */
export interface GuestView {
  /** Every path below `dir`, relative to it; [] when `dir` is not a directory (symlinks are not followed). */
  find(dir: string): Promise<string[]>;
  /** lstat of paths that exist (as listed by find). */
  lstatMany(paths: string[]): Promise<GuestStat[]>;
  /** lstat, or undefined when absent. */
  lstat(path: string): Promise<GuestStat | undefined>;
  read(path: string): Promise<Buffer>;
  /** Applies changes in order. */
  apply(changes: { path: string; action: Action }[]): Promise<void>;
}

/** A libguestfs session as a GuestView. */
export class GuestfsView implements GuestView {
  constructor(private readonly g: GuestfishSession) {}
  find(dir: string) {
    return this.g.find(dir);
  }
  lstatMany(paths: string[]) {
    return paths.length ? this.g.lstatMany(paths) : Promise.resolve([]);
  }
  lstat(path: string) {
    return this.g.lstat(path);
  }
  read(path: string) {
    return this.g.read(path);
  }
  async apply(changes: { path: string; action: Action }[]): Promise<void> {
    const cmds: string[][] = [];
    for (const c of changes) {
      const a = c.action;
      if (a.kind === 'write') {
        if (cmds.length) await this.g.batch(cmds.splice(0));
        await this.g.write(c.path, a.content);
      } else if (a.kind === 'delete') cmds.push(['rm-rf', c.path]);
      else if (a.kind === 'truncate') cmds.push(['truncate', c.path]);
      else if (a.kind === 'touch') cmds.push(['touch', c.path]);
      else cmds.push(['rm-f', c.path], ['ln-s', a.target, c.path]);
    }
    if (cmds.length) await this.g.batch(cmds);
    await this.g.call(['sync']);
  }
}

/** A host directory holding a root tree, as a GuestView (only for trees Gureum built itself, and tests). */
export class DirView implements GuestView {
  constructor(private readonly root: string) {}
  private host(p: string) {
    return join(this.root, p);
  }
  async find(dir: string): Promise<string[]> {
    const top = this.host(dir);
    const st = await lstat(top).catch(() => undefined);
    if (!st?.isDirectory()) return [];
    const out: string[] = [];
    const walk = async (d: string) => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        out.push(relative(top, p));
        if (e.isDirectory()) await walk(p);
      }
    };
    await walk(top);
    return out;
  }
  async lstatMany(paths: string[]) {
    return Promise.all(paths.map(async (p) => (await this.lstat(p))!));
  }
  async lstat(path: string): Promise<GuestStat | undefined> {
    const st = await lstat(this.host(path)).catch(() => undefined);
    return st && { mode: st.mode, size: st.size, uid: st.uid, gid: st.gid };
  }
  read(path: string) {
    return readFile(this.host(path));
  }
  async apply(changes: { path: string; action: Action }[]): Promise<void> {
    for (const c of changes) {
      const p = this.host(c.path);
      const a = c.action;
      if (a.kind === 'delete') await rm(p, { recursive: true, force: true });
      else if (a.kind === 'truncate') await truncate(p, 0);
      else if (a.kind === 'write') await writeFile(p, a.content);
      else if (a.kind === 'touch') {
        const now = new Date();
        await utimes(p, now, now).catch(() => writeFile(p, ''));
      } else {
        await rm(p, { force: true });
        await symlink(a.target, p);
      }
    }
  }
}
