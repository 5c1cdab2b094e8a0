// Builds the default `tiny` guest from Debian packages: a Debian cloud kernel, a gzip'd newc initramfs holding
// the whole system (busybox, dropbear + libraries, sftp-server, virtio modules, our init), and a small ext4
// root disk (qcow2) for state that must survive reboots and snapshots. Booted AMI-style (kernel + ramdisk).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as qemuImg from '../../disk/qemu-img.js';
import { writeCpio, type CpioEntry } from './cpio.js';
import { TINY_PACKAGES, fetchDebs, kernelPackage, resolveDebs, unpackDeb, versionOf, type DebFile } from './debs.js';
import { elfDeps } from './elf.js';
import { guestFiles, ROOT_LABEL, TINY_USER } from './guest-files.js';
import { TINY_MODULES, resolveModules } from './modules.js';
import { childEnv } from '../../util/host-env.js';

const run = promisify(execFile);

/** Bumped whenever the layout changes in a way the guest-file hash does not show. */
const BUILDER_VERSION = 4;

/**
 * Kernel arguments for the tiny guest (fast boot under TCG). The kernel writes to both consoles, the screen (tty0,
 * what VNC shows) and the serial port (the console log); /dev/console, where init writes, is the last one named.
 */
export const TINY_CMDLINE =
  'console=tty0 console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check cryptomgr.notests 8250.nr_uarts=1';

/** Size of the ext4 root disk's file system (the disk itself grows to the flavor's size; the fs does not). */
const ROOT_FS_MB = 64;

/** What the builder produced; paths are inside the cache and stay valid until the cache is cleaned. */
export interface TinyImage {
  /** The Debian cloud kernel (bzImage). */
  kernelPath: string;
  /** gzip'd newc initramfs: the whole guest system. */
  initrdPath: string;
  /** qcow2 root disk (ext4, label gureum-root). */
  rootDiskPath: string;
  rootDiskFormat: 'qcow2';
  /** Kernel command line (`os_command_line` of the image). */
  cmdline: string;
  minDiskGb: number;
  minRamMb: number;
  /** Debian package versions inside, by package name. */
  versions: Record<string, string>;
  /** Cache key: a hash of the package files and the builder. */
  key: string;
  /** True when this call built it; false when it came from the cache. */
  built: boolean;
}

/** Options of `buildTinyImage`. */
export interface TinyBuildOptions {
  log?: (message: string) => void;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function manifestValid(dir: string): TinyImage | null {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return null;
  try {
    const m = JSON.parse(readFileSync(mf, 'utf8')) as TinyImage;
    const fix = {
      ...m,
      kernelPath: join(dir, 'vmlinuz'),
      initrdPath: join(dir, 'initrd.gz'),
      rootDiskPath: join(dir, 'root.qcow2'),
      built: false,
    };
    return [fix.kernelPath, fix.initrdPath, fix.rootDiskPath].every((p) => existsSync(p)) ? fix : null;
  } catch {
    return null;
  }
}

/**
 * Builds (or finds in `cacheDir`) the tiny image. The cache is keyed by the exact package files apt resolves now
 * and by this builder, so a second call is a lookup; when apt cannot resolve or download (offline), the last
 * good build is used if there is one.
 */
export async function buildTinyImage(cacheDir: string, opts: TinyBuildOptions = {}): Promise<TinyImage> {
  const log = opts.log ?? (() => {});
  mkdirSync(cacheDir, { recursive: true });
  const latest = join(cacheDir, 'latest');
  let debs: DebFile[];
  try {
    debs = await resolveDebs([await kernelPackage(), ...TINY_PACKAGES]);
  } catch (e) {
    const prev = existsSync(latest)
      ? manifestValid(join(cacheDir, 'builds', readFileSync(latest, 'utf8').trim()))
      : null;
    if (prev) {
      log(`apt cannot resolve the packages (${(e as Error).message}); using the cached build ${prev.key}`);
      return prev;
    }
    throw e;
  }
  const files = guestFiles([]);
  const key = sha256(
    JSON.stringify({
      v: BUILDER_VERSION,
      debs: debs.map((d) => d.sha256),
      files,
      mods: TINY_MODULES,
      cmd: TINY_CMDLINE,
    }),
  ).slice(0, 16);
  const outDir = join(cacheDir, 'builds', key);
  const cached = manifestValid(outDir);
  if (cached) {
    writeFileSync(latest, key);
    return cached;
  }

  const debDir = join(cacheDir, 'debs');
  log(`downloading ${debs.length} Debian packages`);
  await fetchDebs(debs, debDir);
  const work = join(cacheDir, `.work-${randomBytes(4).toString('hex')}`);
  try {
    const root = join(work, 'unpacked');
    for (const d of debs) await unpackDeb(join(debDir, d.file), root);
    const out = join(work, 'out');
    mkdirSync(out, { recursive: true });
    const kernel = readdirSync(join(root, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!kernel) throw new Error('the kernel package has no /boot/vmlinuz-*');
    const kver = kernel.slice('vmlinuz-'.length);
    writeFileSync(join(out, 'vmlinuz'), checkBzImage(readFileSync(join(root, 'boot', kernel))));

    const modules = resolveModules(join(root, 'lib', 'modules', kver, 'kernel'), TINY_MODULES);
    const entries = await initramfsEntries(root, modules);
    const initrd = gzipSync(writeCpio(entries), { level: 9 });
    writeFileSync(join(out, 'initrd.gz'), initrd);

    await makeRootDisk(join(work, 'rootfs'), join(work, 'root.raw'), join(out, 'root.qcow2'), key);

    const versions = Object.fromEntries(debs.map((d) => [d.package, versionOf(d.file)]));
    const image: TinyImage = {
      kernelPath: join(outDir, 'vmlinuz'),
      initrdPath: join(outDir, 'initrd.gz'),
      rootDiskPath: join(outDir, 'root.qcow2'),
      rootDiskFormat: 'qcow2',
      cmdline: TINY_CMDLINE,
      minDiskGb: 1,
      minRamMb: 128,
      versions,
      key,
      built: true,
    };
    writeFileSync(
      join(out, 'manifest.json'),
      `${JSON.stringify({ ...image, kernelRelease: kver, modules: modules.map((m) => m.name) }, null, 2)}\n`,
    );
    mkdirSync(dirname(outDir), { recursive: true });
    rmSync(outDir, { recursive: true, force: true });
    renameSync(out, outDir);
    writeFileSync(latest, key);
    log(`built tiny image ${key} (kernel ${kver}, initramfs ${(initrd.length / 1048576).toFixed(1)} MiB)`);
    return image;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Checks that the kernel is a bzImage (boot protocol "HdrS" magic at 0x202), what QEMU's direct kernel boot needs.
 * It is uploaded unchanged: the image service's inspector knows a bzImage's 0x55aa at byte 510 is not an MBR.
 */
export function checkBzImage(kernel: Buffer): Buffer {
  if (kernel.length < 0x210 || kernel.toString('latin1', 0x202, 0x206) !== 'HdrS')
    throw new Error('the kernel is not a bzImage (no HdrS header)');
  return kernel;
}

/** Copies a file out of the unpacked tree, following symlinks inside that tree (absolute ones included). */
function readInTree(root: string, path: string, depth = 0): Buffer {
  if (depth > 16) throw new Error(`symlink loop at ${path}`);
  const full = join(root, path);
  const st = statSync(full, { throwIfNoEntry: false });
  let link: string | null = null;
  try {
    link = readlinkSync(full);
  } catch {
    link = null;
  }
  if (link !== null) {
    const target = link.startsWith('/') ? link.slice(1) : posix.join(posix.dirname(path), link);
    return readInTree(root, target, depth + 1);
  }
  if (!st) throw new Error(`${path} is missing from the unpacked packages`);
  return readFileSync(full);
}

const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu'];

/**
 * The initramfs members: directories, device nodes, busybox and its applets, dropbear with its libraries, modules, our
 * files.
 */
async function initramfsEntries(root: string, modules: { name: string; path: string }[]): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const dir = (p: string, mode = 0o755) => {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      entries.push({ kind: 'dir', path: d, mode: i === parts.length ? mode : 0o755 });
    }
  };
  const paths = new Set<string>();
  const file = (p: string, data: Buffer | string, mode: number) => {
    dir(posix.dirname(p));
    paths.add(p);
    entries.push({ kind: 'file', path: p, data, mode });
  };
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'usr/lib',
    'lib/modules',
    'etc/dropbear',
    'proc',
    'sys',
    'dev',
    'run',
    'mnt/config',
    'mnt/disk',
    `home/${TINY_USER}`,
    'var/log',
  ])
    dir(d);
  dir('tmp', 0o1777);
  dir('root', 0o700);
  entries.push({ kind: 'char', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
  entries.push({ kind: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 });
  entries.push({ kind: 'symlink', path: 'var/run', target: '/run' });

  // Our own files first: applet links must not replace them.
  const modNames = modules.map((m) => m.name);
  for (const f of guestFiles(modNames)) file(f.path, f.data, f.mode);
  for (const m of modules) file(`lib/modules/${m.name}.ko`, readFileSync(m.path), 0o644);

  file('bin/busybox', readInTree(root, 'bin/busybox'), 0o755);
  for (const applet of await busyboxApplets(join(root, 'bin', 'busybox'))) {
    if (applet === 'bin/busybox' || paths.has(applet) || applet === 'linuxrc') continue;
    dir(posix.dirname(applet));
    paths.add(applet);
    entries.push({ kind: 'symlink', path: applet, target: '/bin/busybox' });
  }

  // Dynamically linked programs and the closure of their libraries.
  const programs: [string, string][] = [
    ['usr/sbin/dropbear', 'usr/sbin/dropbear'],
    ['usr/bin/dropbearkey', 'usr/bin/dropbearkey'],
    ['usr/lib/openssh/sftp-server', 'usr/lib/sftp-server'],
  ];
  const libs = new Map<string, Buffer>();
  let interpreter: string | null = null;
  const need = (bin: Buffer) => {
    const deps = elfDeps(bin);
    if (deps.interpreter) interpreter = deps.interpreter;
    for (const so of deps.needed) {
      if (libs.has(so)) continue;
      const where = LIB_DIRS.find((d) => existsSync(join(root, d, so)));
      if (!where) throw new Error(`library ${so} is in none of the downloaded packages`);
      const data = readInTree(root, `${where}/${so}`);
      libs.set(so, data);
      need(data);
    }
  };
  for (const [from, to] of programs) {
    const bin = readInTree(root, from);
    need(bin);
    file(to, bin, 0o755);
  }
  for (const [so, data] of [...libs].sort(([a], [b]) => a.localeCompare(b)))
    file(`lib/x86_64-linux-gnu/${so}`, data, 0o755);
  if (interpreter) {
    const interp = (interpreter as string).replace(/^\//, '');
    const real = readInTree(root, interp);
    const realPath = `lib/x86_64-linux-gnu/${posix.basename(interp)}`;
    if (!paths.has(realPath)) file(realPath, real, 0o755);
    if (interp !== realPath) {
      dir(posix.dirname(interp));
      entries.push({ kind: 'symlink', path: interp, target: `/${realPath}` });
    }
  }
  return entries;
}

/** The applets a static busybox offers, as paths ("sbin/init", "usr/bin/wget"). */
async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list-full'], { maxBuffer: 1 << 20 });
  return stdout
    .split('\n')
    .map((l) => l.trim().replace(/^\/+/, ''))
    .filter((l) => /^[a-z0-9_./[\]-]+$/i.test(l) && !l.includes('..'))
    .sort();
}

/** A small ext4 (label gureum-root) with the persistent folders, converted to qcow2. */
async function makeRootDisk(skel: string, raw: string, qcow2: string, key: string): Promise<void> {
  for (const d of ['root', `home/${TINY_USER}`, 'dropbear']) mkdirSync(join(skel, d), { recursive: true });
  chmodSync(join(skel, 'root'), 0o700);
  writeFileSync(join(skel, 'README'), 'Gureum tiny guest state: /root, /home and the SSH host keys live here.\n');
  if (process.getuid?.() === 0) chownSync(join(skel, 'home', TINY_USER), 1000, 1000);
  // Derived from the cache key so equal inputs give the same file system.
  const h = sha256(`gureum-root:${key}`);
  const fsUuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const seed = `${h.slice(32, 40)}-${h.slice(40, 44)}-4${h.slice(45, 48)}-8${h.slice(49, 52)}-${h.slice(52, 64)}`;
  await run(
    'mke2fs',
    [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-L',
      ROOT_LABEL,
      '-U',
      fsUuid,
      '-E',
      `hash_seed=${seed},root_owner=0:0`,
      '-d',
      skel,
      raw,
      `${ROOT_FS_MB}M`,
    ],
    {
      env: childEnv({ E2FSPROGS_FAKE_TIME: '1700000000' }),
      maxBuffer: 1 << 20,
    },
  );
  await qemuImg.convert(raw, 'raw', qcow2, 'qcow2');
}
