// `gureum config show`: the effective settings, one per line, with where each came from; secrets masked.
import { SECRET_PATHS, type GureumConfig } from './schema.js';

/** A URL's password replaced by *** (postgres://user:***@host/db); other secrets are hidden whole. */
export function maskSecret(value: unknown): string {
  if (typeof value !== 'string' || value === '') return JSON.stringify(value);
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*(@.*)$/i.exec(value);
  return JSON.stringify(url ? `${url[1]}***${url[2]}` : value);
}

function flatten(o: unknown, prefix: string, out: [string, unknown][]): void {
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).length) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, o]);
  }
}

/** Lines "path  value  source", aligned, in the schema's order. */
export function renderConfig(config: GureumConfig, sources: Map<string, string>): string {
  const rows: [string, unknown][] = [];
  flatten(config, '', rows);
  const shown = rows.map(([path, value]) => {
    const secret = [...SECRET_PATHS].some((s) => path === s || path.startsWith(`${s}.`));
    let source = sources.get(path);
    for (let p = path; !source && p.includes('.'); p = p.slice(0, p.lastIndexOf('.')))
      source = sources.get(p.slice(0, p.lastIndexOf('.')));
    return [path, secret ? maskSecret(value) : JSON.stringify(value), source ?? 'default'] as const;
  });
  const w0 = Math.max(...shown.map((r) => r[0].length));
  const w1 = Math.min(60, Math.max(...shown.map((r) => r[1].length)));
  return shown.map(([p, v, s]) => `${p.padEnd(w0)}  ${v.padEnd(w1)}  ${s}`).join('\n');
}
