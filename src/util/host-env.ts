// The process environment as child processes and PATH lookups need it. Settings never come from here (they come
// from the typed config, src/config.ts); this is only what a spawned tool inherits and where binaries are found.
// The environment itself is the start-up snapshot in src/config/process-env.ts (the one place that reads it).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { processEnv } from '../config/process-env.js';

/** The environment a child process inherits, with `extra` on top. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...processEnv, ...extra };
}

/** An inherited variable a child-facing default depends on (TMPDIR, XDG_CACHE_HOME, LIBGUESTFS_*), if set. */
export function inherited(name: string): string | undefined {
  return processEnv[name] || undefined;
}

/** The folders of PATH (plus the sbin folders, which a non-root PATH lacks but root tools live in). */
export function pathDirs(): string[] {
  return [...(processEnv.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter(Boolean);
}

/** True when `binary` (a path, or a name looked up on PATH) exists. */
export function binaryExists(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary);
  return pathDirs().some((d) => existsSync(join(d, binary)));
}
