// The Debian mirror debootstrap uses, read at run time from the machine's apt configuration (one-line
// sources.list files and deb822 .sources files). No mirror host is ever written in the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImagingError } from './errors.js';

/** One `deb` source. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
  /** The file it came from. */
  file: string;
}

/** Parses a one-line-style sources.list. */
export function parseSourcesList(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m?.[1] !== 'deb') continue;
    const opts = Object.fromEntries(
      (m[2] ?? '')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((o) => o.split('=', 2) as [string, string]),
    );
    out.push({
      uri: m[3]!,
      suites: [m[4]!],
      components: m[5]!.split(/\s+/).filter(Boolean),
      ...(opts['signed-by'] ? { signedBy: opts['signed-by'] } : {}),
      file,
    });
  }
  return out;
}

/** Parses a deb822 .sources file (stanzas separated by blank lines; `Enabled: no` skips one). */
export function parseDeb822(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    let last = '';
    for (const l of stanza.split('\n')) {
      if (/^\s*#/.test(l) || !l.trim()) continue;
      if (/^\s/.test(l) && last) {
        f[last] += ` ${l.trim()}`;
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(l);
      if (m) {
        last = m[1]!.toLowerCase();
        f[last] = m[2]!.trim();
      }
    }
    if (!f.types || !f.uris || !f.suites) continue;
    if (!f.types.split(/\s+/).includes('deb')) continue;
    if (f.enabled && /^(no|false|0)$/i.test(f.enabled)) continue;
    for (const uri of f.uris.split(/\s+/)) {
      out.push({
        uri,
        suites: f.suites.split(/\s+/),
        components: (f.components ?? '').split(/\s+/).filter(Boolean),
        ...(f['signed-by'] ? { signedBy: f['signed-by'] } : {}),
        file,
      });
    }
  }
  return out;
}

/** Every `deb` source of the apt configuration under `etc` (default /etc/apt), in apt's order. */
export function readAptSources(etc = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const main = join(etc, 'sources.list');
  if (existsSync(main)) out.push(...parseSourcesList(readFileSync(main, 'utf8'), main));
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name.endsWith('.list')) out.push(...parseSourcesList(readFileSync(p, 'utf8'), p));
      else if (name.endsWith('.sources')) out.push(...parseDeb822(readFileSync(p, 'utf8'), p));
    }
  }
  return out;
}

/** What debootstrap needs: the archive for `suite`, plus the security and updates sources when configured. */
export interface Mirror {
  uri: string;
  suite: string;
  components: string[];
  /** Extra sources for the image's own apt configuration (suite-updates, suite-security). */
  extra: AptSource[];
  file: string;
}

/** Picks the source that carries `suite` with component main; a clear error when the machine has none. */
export function findMirror(suite: string, etc = '/etc/apt'): Mirror {
  const sources = readAptSources(etc).filter((s) => /^(https?|file):/.test(s.uri));
  const main = sources.find((s) => s.suites.includes(suite) && s.components.includes('main'));
  if (!main) {
    throw new ImagingError(
      'bad-input',
      `no apt source for suite "${suite}" with component "main" in ${etc}/sources.list or ${etc}/sources.list.d/ ` +
        `(found: ${sources.map((s) => `${s.uri} ${s.suites.join(',')}`).join('; ') || 'none'})`,
    );
  }
  const wanted = (x: string) => x === `${suite}-updates` || x === `${suite}-security`;
  const extra = sources.filter((s) => s.suites.some(wanted)).map((s) => ({ ...s, suites: s.suites.filter(wanted) }));
  return {
    uri: main.uri.replace(/\/+$/, ''),
    suite,
    components: main.components.includes('main') ? ['main'] : main.components,
    extra,
    file: main.file,
  };
}

/** The image's /etc/apt/sources.list for a mirror (one-line format). */
export function imageSourcesList(m: Mirror): string {
  const lines = [`deb ${m.uri} ${m.suite} main`];
  for (const s of m.extra) for (const suite of s.suites) lines.push(`deb ${s.uri.replace(/\/+$/, '')} ${suite} main`);
  return `${lines.join('\n')}\n`;
}
