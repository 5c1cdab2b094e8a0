import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates a directory and its missing parents, failing with a clear error where it cannot.
 * Why not `mkdirSync(dir, { recursive: true })`: on Node 20 it loops forever on some paths (e.g. under /proc),
 * and the data directory comes from the user.
 */
export function ensureDir(dir: string, mode = 0o755): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      if (!statSync(cur).isDirectory()) throw new Error(`${cur} exists and is not a directory`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(cur);
      const up = dirname(cur);
      if (up === cur) break;
      cur = up;
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create ${d}: ${(e as Error).message}`);
    }
  }
}
