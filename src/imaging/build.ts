// build: a Debian cloud image from Debian packages, following a recipe.
//
// Stages, each cached under the cache directory and keyed by what it depends on (so a rerun resumes after the
// last finished stage):
//   1. packages  debootstrap --make-tarball: every .deb the image needs (key: suite, mirror, package list)
//   2. base      debootstrap --unpack-tarball into a tree, saved as a tar (key: stage 1 key); no network
//   3. configure the recipe applied to a copy of the tree on the host (trusted: Gureum made it), then sealed
//   4. disk      mke2fs -d writes the tree into an ext4 partition image (no mount), sfdisk partitions the disk,
//                the MBR boot code is written, and extlinux is installed by libguestfs (appliance, not the host)
//   5. output    qemu-img convert to the requested format
// Boot: extlinux in the image (BIOS, MBR), kernel and initrd through Debian's /vmlinuz and /initrd.img links,
// so the QEMU driver boots it as any disk image; no kernel_id/ramdisk_id images are needed.
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  chmodSync,
  openSync,
  writeSync,
  closeSync,
  readSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { findMirror, imageSourcesList, type Mirror } from './apt-sources.js';
import { ImagingError } from './errors.js';
import { BASE_PACKAGES, type Recipe } from './recipe.js';
import { sealDirectory } from './seal.js';
import { requireTools, runTool } from './tools.js';
import { childEnv, inherited } from '../util/host-env.js';

/** Options of one build. */
export interface BuildOptions {
  /** Output file; its format is `format`. */
  output: string;
  format?: 'qcow2' | 'raw';
  /** Cache directory (default $GUREUM_IMAGE_CACHE or ~/.cache/gureum/image-factory). */
  cacheDir?: string;
  /** Apt configuration to read the mirror from (default /etc/apt). */
  aptEtc?: string;
  /** Ignore cached stages. */
  noCache?: boolean;
  /** Progress lines. */
  progress?: (line: string) => void;
}

/** What a build made. */
export interface BuildResult {
  output: string;
  format: string;
  mirror: string;
  sizeBytes: number;
  fileBytes: number;
  seconds: number;
  cached: string[];
  sealed: number;
}

/** The factory's cache when neither --cache-dir nor imaging.cacheDir (env GUREUM_IMAGE_CACHE) names one. */
export function defaultCacheDir(): string {
  return join(inherited('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'gureum', 'image-factory');
}

const MBR = ['/usr/lib/EXTLINUX/mbr.bin', '/usr/lib/syslinux/mbr/mbr.bin'];

/** Mount points at or below `dir` (from /proc/self/mountinfo), deepest first. */
function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const l of text.split('\n')) {
    const p = l.split(' ')[4];
    if (p && (p === dir || p.startsWith(`${dir}/`))) out.push(p.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Removes a work tree after unmounting anything debootstrap left mounted in it; refuses to delete through a mount. */
async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const m of mountsUnder(dir)) await runTool('umount', ['-l', m], { env: childEnv() }).catch(() => undefined);
  const left = mountsUnder(dir);
  if (left.length) throw new ImagingError('tool', `refusing to delete ${dir}: still mounted: ${left.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

/** The package list for a recipe, sorted and unique. */
export function packagesFor(recipe: Recipe): string[] {
  return [...new Set([...BASE_PACKAGES, ...recipe.packages])].sort();
}

/** Cache key of the package set: suite, mirror, packages. */
export function packagesKey(recipe: Recipe, mirror: Mirror): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        v: 1,
        suite: recipe.release,
        arch: recipe.arch,
        mirror: mirror.uri,
        packages: packagesFor(recipe),
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

function extlinuxConf(recipe: Recipe, uuid: string): string {
  return [
    "# Written by the Gureum image factory. The kernel and initrd are Debian's links at the root of the filesystem.",
    'DEFAULT debian',
    'PROMPT 0',
    'TIMEOUT 1',
    '',
    'LABEL debian',
    '  LINUX /vmlinuz',
    '  INITRD /initrd.img',
    `  APPEND root=UUID=${uuid} ro ${recipe.kernelCmdline}`,
    '',
  ].join('\n');
}

/** Applies the recipe to a root tree on the host. */
async function configure(
  root: string,
  recipe: Recipe,
  mirror: Mirror,
  uuid: string,
  log: (s: string) => void,
): Promise<void> {
  const put = (p: string, content: string, mode = 0o644) => {
    const full = join(root, p);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content, { mode });
    chmodSync(full, mode);
  };
  put('/etc/fstab', `# Written by the Gureum image factory.\nUUID=${uuid} / ext4 defaults,errors=remount-ro 0 1\n`);
  put('/etc/hostname', 'localhost\n');
  put(
    '/etc/hosts',
    '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n',
  );
  put('/etc/apt/sources.list', imageSourcesList(mirror));
  put('/etc/network/interfaces', 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n');
  put('/boot/extlinux/extlinux.conf', extlinuxConf(recipe, uuid));
  put('/etc/locale.gen', 'en_US.UTF-8 UTF-8\nC.UTF-8 UTF-8\n');
  put('/etc/default/locale', 'LANG=C.UTF-8\n');
  for (const f of recipe.files) put(f.path, f.content, f.mode);
  log('configure: locale-gen, services');
  await runTool('chroot', [root, '/usr/sbin/locale-gen'], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
  for (const s of recipe.services.enable)
    await runTool('systemctl', [`--root=${root}`, 'enable', s], { env: childEnv() });
  for (const s of recipe.services.disable)
    await runTool('systemctl', [`--root=${root}`, 'disable', s], { env: childEnv() });
  // apt's downloaded lists are large and stale by first boot; cloud-init refreshes them when it installs packages.
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
}

/** Builds an image from a recipe. The output appears only when the whole build succeeded. */
export async function buildImage(recipe: Recipe, opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const log = opts.progress ?? (() => undefined);
  if (process.getuid?.() !== 0)
    throw new ImagingError('bad-input', 'build runs debootstrap and chroot: run it as root');
  requireTools({
    debootstrap: 'debootstrap',
    mke2fs: 'e2fsprogs',
    sfdisk: 'fdisk',
    'qemu-img': 'qemu-utils',
    guestfish: 'libguestfs-tools',
    chroot: 'coreutils',
    systemctl: 'systemd',
  });
  const mbr = MBR.find((p) => existsSync(p));
  if (!mbr) throw new ImagingError('tool', 'no MBR boot code (install the extlinux package)');
  const format = opts.format ?? 'qcow2';
  const output = resolve(opts.output);
  if (existsSync(output))
    throw new ImagingError('bad-input', `${output} already exists; remove it or choose another --output`);
  const mirror = findMirror(recipe.release, opts.aptEtc);
  log(`mirror: ${mirror.uri} ${mirror.suite} (from ${mirror.file})`);
  const cache = opts.cacheDir ?? defaultCacheDir();
  mkdirSync(cache, { recursive: true });
  const key = packagesKey(recipe, mirror);
  const cached: string[] = [];
  const work = join(cache, `work-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  const partialOut = `${output}.partial`;
  try {
    // 1. packages
    const pkgs = packagesFor(recipe);
    const tarball = join(cache, `${recipe.release}-${key}-debs.tgz`);
    if (existsSync(tarball) && !opts.noCache) {
      cached.push('packages');
      log(`[1/5] packages: cached (${tarball})`);
    } else {
      log(`[1/5] packages: debootstrap --make-tarball (${pkgs.length} packages requested)`);
      const tmp = join(work, 'debs.tgz');
      let n = 0;
      await runTool(
        'debootstrap',
        [
          '--variant=minbase',
          `--include=${pkgs.join(',')}`,
          `--arch=${recipe.arch}`,
          `--make-tarball=${tmp}`,
          recipe.release,
          join(work, 'mk'),
          mirror.uri,
        ],
        {
          env: childEnv(),
          onLine: (l) => {
            if (/^I: Retriev/.test(l) && ++n % 25 === 0) log(`      ${n} files retrieved`);
            else if (/^[EW]:/.test(l)) log(`      ${l}`);
          },
        },
      );
      renameSync(tmp, tarball);
      await removeTree(join(work, 'mk'));
    }
    // 2. base tree
    const baseTar = join(cache, `${recipe.release}-${key}-base.tar`);
    const root = join(work, 'root');
    if (existsSync(baseTar) && !opts.noCache) {
      cached.push('base');
      log(`[2/5] base: cached (${baseTar})`);
      mkdirSync(root);
      await runTool('tar', ['-xpf', baseTar, '--numeric-owner', '-C', root], { env: childEnv() });
    } else {
      log('[2/5] base: debootstrap --unpack-tarball (installs and configures packages)');
      let n = 0;
      await runTool(
        'debootstrap',
        [
          '--variant=minbase',
          `--include=${pkgs.join(',')}`,
          `--arch=${recipe.arch}`,
          `--unpack-tarball=${tarball}`,
          recipe.release,
          root,
          mirror.uri,
        ],
        {
          env: childEnv(),
          onLine: (l) => {
            if (/^I: Configuring/.test(l) && ++n % 20 === 0) log(`      ${n} packages configured`);
            else if (/^E:/.test(l)) log(`      ${l}`);
          },
        },
      ).catch((e: Error) => {
        // The reason is in debootstrap's log inside the tree, which is removed below: keep its tail.
        const logFile = join(root, 'debootstrap', 'debootstrap.log');
        const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
        throw new ImagingError('tool', `${e.message}${tail ? `\ndebootstrap.log:\n${tail}` : ''}`);
      });
      for (const m of mountsUnder(root)) await runTool('umount', ['-l', m], { env: childEnv() }).catch(() => undefined);
      const tmp = join(work, 'base.tar');
      await runTool('tar', ['-cpf', tmp, '--numeric-owner', '--xattrs', '-C', root, '.'], { env: childEnv() });
      renameSync(tmp, baseTar);
    }
    if (!existsSync(join(root, 'vmlinuz')) || !existsSync(join(root, 'initrd.img')))
      throw new ImagingError('tool', 'the kernel or initrd links are missing from the built tree');
    // 3. configure + seal
    const uuid = randomUUID();
    log('[3/5] configure: recipe files, fstab, extlinux.conf, apt sources; then seal');
    await configure(root, recipe, mirror, uuid, log);
    const sealed = await sealDirectory(root);
    log(
      `      sealed: ${sealed.changes.length} changes ` +
        `(${[...new Set(sealed.changes.map((c) => c.op))].join(', ') || 'nothing to do'})`,
    );
    // 4. disk
    log(`[4/5] disk: ${recipe.sizeBytes / 2 ** 20} MiB, MBR, ext4 root (mke2fs -d), extlinux`);
    const part = join(work, 'root.ext4');
    const start = 2048 * 512;
    const partBytes = recipe.sizeBytes - start;
    await runTool(
      'mke2fs',
      [
        '-q',
        '-t',
        'ext4',
        '-O',
        '^64bit,^metadata_csum_seed',
        '-L',
        'root',
        '-U',
        uuid,
        '-d',
        root,
        '-F',
        part,
        `${partBytes / 1024}k`,
      ],
      { env: childEnv() },
    ).catch((e: Error) => {
      throw new ImagingError(
        'tool',
        `writing the root filesystem failed (is the disk full, or the recipe size too small?): ${e.message}`,
      );
    });
    await removeTree(root);
    const raw = join(work, 'disk.raw');
    closeSync(openSync(raw, 'w'));
    truncateSync(raw, recipe.sizeBytes);
    const script = join(work, 'sfdisk.txt');
    writeFileSync(script, 'label: dos\nstart=2048, type=83, bootable\n');
    await runTool('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', raw], { env: childEnv(), stdin: script });
    await runTool(
      'dd',
      [`if=${part}`, `of=${raw}`, 'bs=1M', `seek=${start / 2 ** 20}`, 'conv=notrunc,sparse', 'status=none'],
      { env: childEnv() },
    ).catch((e: Error) => {
      throw new ImagingError('tool', `writing the disk failed (disk full?): ${e.message}`);
    });
    rmSync(part, { force: true });
    // MBR boot code: the first 440 bytes only (the partition table follows).
    const code = Buffer.alloc(440);
    const fd0 = openSync(mbr, 'r');
    readSync(fd0, code, 0, 440, 0);
    closeSync(fd0);
    const fd = openSync(raw, 'r+');
    writeSync(fd, code, 0, 440, 0);
    closeSync(fd);
    await runTool(
      'guestfish',
      [
        '--format=raw',
        '-a',
        raw,
        'run',
        ':',
        'mount',
        '/dev/sda1',
        '/',
        ':',
        'extlinux',
        '/boot/extlinux',
        ':',
        'umount-all',
      ],
      {},
    );
    // 5. output
    log(`[5/5] output: ${format} ${output}`);
    mkdirSync(dirname(output), { recursive: true });
    if (format === 'raw') renameSync(raw, partialOut);
    else
      await runTool(
        'qemu-img',
        ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'compression_type=zlib', '-c', raw, partialOut],
        { env: childEnv() },
      );
    renameSync(partialOut, output);
    return {
      output,
      format,
      mirror: mirror.uri,
      sizeBytes: recipe.sizeBytes,
      fileBytes: statSync(output).size,
      seconds: (Date.now() - t0) / 1000,
      cached,
      sealed: sealed.changes.length,
    };
  } finally {
    rmSync(partialOut, { force: true });
    await removeTree(work);
  }
}
