// Reads the TypeScript sources under test/ (not dist/), for the checks that hold the suite to its own rules.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../helpers/requirements.js';

export interface Source {
  path: string;
  text: string;
}

/** Every .ts file under test/, with its repository-relative path. */
export function testSources(): Source[] {
  const out: Source[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts'))
        out.push({ path: relative(REPO_ROOT, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(REPO_ROOT, 'test'));
  return out;
}

/** 1-based line of a character offset. */
export function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}
