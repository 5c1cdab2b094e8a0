// Build recipes: small JSON files (recipes/NAME.json) parsed strictly: an unknown key, a wrong type or a bad
// value is an error naming the key, before anything is downloaded or written.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImagingError } from './errors.js';

/** A file the build writes into the image. */
export interface RecipeFile {
  path: string;
  content: string;
  /** Octal permission bits, e.g. "0644". */
  mode: number;
}

/** A parsed build recipe. */
export interface Recipe {
  name: string;
  distro: 'debian';
  /** Debian suite name (bookworm). */
  release: string;
  /** os_version property (12). */
  version: string;
  arch: 'amd64';
  /** Disk size in bytes (a whole number of MiB). */
  sizeBytes: number;
  minRamMb: number;
  /** Packages besides the base set (kernel, cloud-init, qemu-guest-agent, openssh-server, growroot, extlinux). */
  packages: string[];
  services: { enable: string[]; disable: string[] };
  files: RecipeFile[];
  kernelCmdline: string;
  /** Extra image properties for publish. */
  properties: Record<string, string>;
}

/** Packages every image gets (the recipe adds to them). */
export const BASE_PACKAGES = [
  'linux-image-cloud-amd64',
  'systemd-sysv',
  'udev',
  'dbus',
  'cloud-init',
  'qemu-guest-agent',
  'openssh-server',
  'cloud-guest-utils',
  'cloud-initramfs-growroot',
  'e2fsprogs',
  'extlinux',
  'ifupdown',
  'isc-dhcp-client',
  'netbase',
  'sudo',
  'locales',
  'ca-certificates',
  'iproute2',
  // debootstrap's resolver does not follow virtual packages: name the providers it would miss.
  'python3-cffi-backend',
];

const KEYS = [
  'name',
  'distro',
  'release',
  'version',
  'arch',
  'size',
  'min_ram_mb',
  'packages',
  'services',
  'files',
  'kernel_cmdline',
  'properties',
  'description',
];
const PKG = /^[a-z0-9][a-z0-9+.-]+$/;
const UNIT = /^[A-Za-z0-9@_.:\\-]+$/;

function fail(where: string, msg: string): never {
  throw new ImagingError('bad-input', `recipe ${where}: ${msg}`);
}

/** "2G", "1536M", "2GiB" or a byte count → bytes (MiB multiple). */
export function parseSize(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) {
    if (v % (1 << 20)) fail(where, 'a byte size must be a whole number of MiB');
    return v;
  }
  if (typeof v !== 'string') fail(where, 'must be a size like "2G" or "1536M"');
  const m = /^(\d+)\s*([MG])(?:i?B)?$/i.exec(v.trim());
  if (!m) fail(where, `"${v}" is not a size like "2G" or "1536M"`);
  const n = Number(m[1]) * (m[2]!.toUpperCase() === 'G' ? 1024 : 1) * (1 << 20);
  if (n <= 0) fail(where, 'must be positive');
  return n;
}

const strList = (v: unknown, where: string, re: RegExp): string[] => {
  if (!Array.isArray(v)) fail(where, 'must be a list of strings');
  return v.map((x, i) => {
    if (typeof x !== 'string' || !re.test(x)) fail(`${where}[${i}]`, `${JSON.stringify(x)} is not a valid name`);
    return x;
  });
};

/** Checks a parsed JSON value and returns the recipe. */
export function parseRecipe(raw: unknown, source = 'recipe'): Recipe {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(source, 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length)
    fail(
      source,
      `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ` +
        `${KEYS.join(', ')})`,
    );
  const str = (k: string, dflt?: string): string => {
    const v = o[k] ?? dflt;
    if (typeof v !== 'string' || !v) fail(`${source} "${k}"`, 'must be a non-empty string');
    return v;
  };
  const name = str('name');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
    fail(`${source} "name"`, 'lower-case letters, digits, ".", "_" and "-" only');
  const distro = str('distro', 'debian');
  if (distro !== 'debian') fail(`${source} "distro"`, 'only "debian" is supported');
  const release = str('release');
  if (!/^[a-z]+$/.test(release)) fail(`${source} "release"`, 'must be a Debian suite name like "bookworm"');
  const arch = str('arch', 'amd64');
  if (arch !== 'amd64') fail(`${source} "arch"`, 'only "amd64" is supported');
  const minRam = o.min_ram_mb ?? 512;
  if (typeof minRam !== 'number' || !Number.isSafeInteger(minRam) || minRam < 0)
    fail(`${source} "min_ram_mb"`, 'must be a whole number of MiB');
  if (o.description !== undefined && typeof o.description !== 'string')
    fail(`${source} "description"`, 'must be a string');

  const services = { enable: [] as string[], disable: [] as string[] };
  if (o.services !== undefined) {
    const s = o.services;
    if (!s || typeof s !== 'object' || Array.isArray(s))
      fail(`${source} "services"`, 'must be an object with "enable" and/or "disable"');
    const bad = Object.keys(s).filter((k) => k !== 'enable' && k !== 'disable');
    if (bad.length) fail(`${source} "services"`, `unknown key "${bad[0]}" (allowed: enable, disable)`);
    const so = s as Record<string, unknown>;
    if (so.enable !== undefined) services.enable = strList(so.enable, `${source} "services.enable"`, UNIT);
    if (so.disable !== undefined) services.disable = strList(so.disable, `${source} "services.disable"`, UNIT);
  }
  const files: RecipeFile[] = [];
  if (o.files !== undefined) {
    if (!Array.isArray(o.files)) fail(`${source} "files"`, 'must be a list');
    o.files.forEach((f, i) => {
      const w = `${source} "files[${i}]"`;
      if (!f || typeof f !== 'object' || Array.isArray(f)) fail(w, 'must be an object with path, content, mode');
      const fo = f as Record<string, unknown>;
      const bad = Object.keys(fo).filter((k) => !['path', 'content', 'mode'].includes(k));
      if (bad.length) fail(w, `unknown key "${bad[0]}" (allowed: path, content, mode)`);
      if (
        typeof fo.path !== 'string' ||
        !fo.path.startsWith('/') ||
        fo.path.split('/').includes('..') ||
        fo.path.endsWith('/')
      )
        fail(`${w}.path`, 'must be an absolute file path without ".."');
      if (typeof fo.content !== 'string') fail(`${w}.content`, 'must be a string');
      const mode = fo.mode ?? '0644';
      if (typeof mode !== 'string' || !/^0?[0-7]{3,4}$/.test(mode))
        fail(`${w}.mode`, 'must be an octal string like "0644"');
      files.push({ path: fo.path, content: fo.content, mode: parseInt(mode, 8) });
    });
  }
  const properties: Record<string, string> = {};
  if (o.properties !== undefined) {
    if (!o.properties || typeof o.properties !== 'object' || Array.isArray(o.properties))
      fail(`${source} "properties"`, 'must be an object of strings');
    for (const [k, v] of Object.entries(o.properties)) {
      if (typeof v !== 'string') fail(`${source} "properties.${k}"`, 'must be a string');
      properties[k] = v;
    }
  }
  const kernelCmdline = str('kernel_cmdline', 'console=tty0 console=ttyS0,115200n8');
  if (/[\n\r]/.test(kernelCmdline)) fail(`${source} "kernel_cmdline"`, 'must be one line');
  return {
    name,
    distro: 'debian',
    release,
    version: str('version'),
    arch: 'amd64',
    sizeBytes: parseSize(o.size ?? '2G', `${source} "size"`),
    minRamMb: minRam,
    packages: o.packages === undefined ? [] : strList(o.packages, `${source} "packages"`, PKG),
    services,
    files,
    kernelCmdline,
    properties,
  };
}

/** The repository's recipes/ folder. */
export function recipesDir(): string {
  // dist/src/imaging/recipe.js or src/imaging/recipe.ts → the repository root.
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, 'recipes'))) return join(d, 'recipes');
  return resolve('recipes');
}

/** Loads a recipe by name (recipes/NAME.json) or path. */
export function loadRecipe(nameOrPath: string): Recipe {
  const path = /[/.]/.test(nameOrPath) ? resolve(nameOrPath) : join(recipesDir(), `${nameOrPath}.json`);
  if (!existsSync(path)) throw new ImagingError('not-found', `no recipe "${nameOrPath}" (looked for ${path})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ImagingError('bad-input', `recipe ${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseRecipe(raw, path);
}
