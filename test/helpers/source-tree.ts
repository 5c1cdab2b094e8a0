// Helpers for tests that read the repository's own source (architecture rules) or a throwaway copy of its layout.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding package.json next to src/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'src'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json next to src/) not found');
    dir = up;
  }
  return dir;
}

/** A writer of files under `root`, creating their folders (for fake trees a rule test checks). */
export function fileWriter(root: string): (path: string, text: string) => void {
  return (path, text) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
}
