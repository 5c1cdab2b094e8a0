// Debian packages for the tiny image: resolved with apt (names, versions, SHA-256 from the local apt lists),
// downloaded once with `apt-get download` into a cache, verified, unpacked with `dpkg-deb -x`.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One package file as apt will fetch it. */
export interface DebFile {
  package: string;
  /** File name, e.g. "dropbear-bin_2022.83-1+deb12u3_amd64.deb" (name and version in one). */
  file: string;
  size: number;
  sha256: string;
}

/** What the tiny guest is made of. The kernel comes from the `linux-image-cloud-amd64` dependency. */
export const TINY_PACKAGES = [
  'busybox-static',
  'dropbear-bin',
  'libtomcrypt1',
  'libtommath1',
  'libgmp10',
  'libcrypt1',
  'zlib1g',
  'libc6',
  'openssh-sftp-server',
] as const;

/** The meta package whose dependency names the current cloud kernel package. */
export const KERNEL_META = 'linux-image-cloud-amd64';

/** The concrete kernel package behind the meta package, e.g. "linux-image-6.1.0-56-cloud-amd64". */
export async function kernelPackage(): Promise<string> {
  const { stdout } = await run('apt-cache', ['depends', KERNEL_META], { maxBuffer: 1 << 20 });
  const m = /Depends:\s*(linux-image-\S+-cloud-amd64)\b/.exec(stdout);
  if (!m) throw new Error(`apt-cache knows no dependency of ${KERNEL_META} (is this Debian with its apt lists?)`);
  return m[1]!;
}

/** Parses `apt-get download --print-uris` lines: 'URI' FILE SIZE SHA256:HEX. */
export function parsePrintUris(text: string): Omit<DebFile, 'package'>[] {
  const out: Omit<DebFile, 'package'>[] = [];
  for (const line of text.split('\n')) {
    const m = /^'[^']+'\s+(\S+\.deb)\s+(\d+)\s+SHA256:([0-9a-f]{64})\s*$/.exec(line.trim());
    if (m) out.push({ file: m[1]!, size: Number(m[2]), sha256: m[3]! });
  }
  return out;
}

/** Resolves each package to the file apt would download now (no network: reads the local apt lists). */
export async function resolveDebs(packages: string[]): Promise<DebFile[]> {
  // An empty folder: apt-get prints nothing for a file already present in the current directory.
  const empty = mkdtempSync(join(tmpdir(), 'gureum-apt-'));
  try {
    const { stdout } = await run('apt-get', ['download', '--print-uris', ...packages], {
      cwd: empty,
      maxBuffer: 1 << 20,
    });
    const files = parsePrintUris(stdout);
    return packages.map((pkg) => {
      // The lines carry no package name of their own; the file name starts with it.
      const f = files.find((x) => x.file.startsWith(`${pkg}_`));
      if (!f) throw new Error(`apt-get could not resolve package ${pkg}`);
      return { package: pkg, ...f };
    });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Makes sure every file is in `debDir` with its expected SHA-256, downloading the missing ones with
 * `apt-get download` into a scratch folder first (a half-downloaded file never lands in the cache).
 */
export async function fetchDebs(debs: DebFile[], debDir: string): Promise<void> {
  mkdirSync(debDir, { recursive: true });
  const missing: DebFile[] = [];
  for (const d of debs) {
    const p = join(debDir, d.file);
    if (existsSync(p) && (await sha256File(p)) === d.sha256) continue;
    rmSync(p, { force: true });
    missing.push(d);
  }
  if (missing.length === 0) return;
  const scratch = mkdtempSync(join(debDir, '.dl-'));
  try {
    // `pkg=version` pins exactly what was resolved.
    const specs = missing.map((d) => `${d.package}=${versionOf(d.file)}`);
    await run('apt-get', ['download', ...specs], { cwd: scratch, maxBuffer: 16 << 20 });
    for (const d of missing) {
      const got = readdirSync(scratch).find((f) => decodeURIComponent(f) === d.file) ?? d.file;
      const p = join(scratch, got);
      if (!existsSync(p)) throw new Error(`apt-get download did not produce ${d.file}`);
      const sum = await sha256File(p);
      if (sum !== d.sha256) throw new Error(`${d.file}: SHA-256 ${sum} does not match the apt lists (${d.sha256})`);
      renameSync(p, join(debDir, d.file));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The version part of a .deb file name ("name_VERSION_arch.deb"), with an epoch's "%3a" decoded. */
export function versionOf(file: string): string {
  const parts = decodeURIComponent(file)
    .replace(/\.deb$/, '')
    .split('_');
  if (parts.length !== 3) throw new Error(`not a Debian package file name: ${file}`);
  return parts[1]!;
}

/** Unpacks a package's files into `dir` (no maintainer scripts run). */
export async function unpackDeb(debPath: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run('dpkg-deb', ['-x', debPath, dir], { maxBuffer: 1 << 20 });
}
