// Opening a disk image for inspection or sealing: its format is read by Gureum's own inspector first (so a qcow2
// with a backing file naming a host file is refused before anything opens it), then libguestfs mounts its Linux
// root inside the appliance.
import { stat } from 'node:fs/promises';
import { detect, openFileSource } from '../disk/inspector/index.js';
import { ImagingError } from './errors.js';
import { GuestfishSession, GuestfsError } from './guestfish.js';

/** Disk formats libguestfs may open here, by the name the inspector reports (qemu's name as value). */
const OPENABLE: Record<string, string> = {
  raw: 'raw',
  gpt: 'raw',
  qcow2: 'qcow2',
  vmdk: 'vmdk',
  vdi: 'vdi',
  vhdx: 'vhdx',
  vhd: 'vpc',
};

/** The format of a local disk image file, checked for unsafe content; throws a clear error for anything else. */
export async function diskFormatOf(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new ImagingError('not-found', `${path}: no such file`);
  }
  if (!st.isFile()) throw new ImagingError('bad-input', `${path}: not a regular file`);
  if (st.size < 64 * 1024)
    throw new ImagingError('bad-input', `${path}: too small to be a disk image (${st.size} bytes)`);
  const src = await openFileSource(path);
  try {
    const found = await detect(src);
    if (found.unsafe.length)
      throw new ImagingError('refused', `${path}: unsafe ${found.name} image: ${found.unsafe.join('; ')}`);
    const fmt = OPENABLE[found.name];
    if (!fmt) throw new ImagingError('bad-input', `${path}: a ${found.name} file is not a disk image this tool opens`);
    return fmt;
  } catch (e) {
    if (e instanceof ImagingError) throw e;
    throw new ImagingError('refused', `${path}: ${(e as Error).message}`);
  } finally {
    await src.close?.();
  }
}

/** An open image: the session with the guest's filesystems mounted at their places under /. */
export interface OpenGuest {
  g: GuestfishSession;
  format: string;
  /** The root filesystem's device inside the appliance (e.g. /dev/sda1). */
  root: string;
  /** What libguestfs inspection said (empty when the root was found by the fallback scan). */
  os: { type?: string; distro?: string; version?: string };
}

const LINUX_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs']);

/** Opens a disk image and mounts its Linux root (read-only when `readonly`). The caller must `g.close()`. */
export async function openGuest(path: string, opts: { readonly: boolean; format?: string }): Promise<OpenGuest> {
  const format = opts.format ?? (await diskFormatOf(path));
  let g: GuestfishSession;
  try {
    g = await GuestfishSession.start(path, format, { readonly: opts.readonly });
  } catch (e) {
    throw new ImagingError('tool', `${path}: libguestfs could not open the image: ${(e as Error).message}`);
  }
  try {
    const mount = opts.readonly ? 'mount-ro' : 'mount';
    const roots = (await g.call(['inspect-os']))
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (roots.length > 0) {
      const root = roots[0]!;
      const [type, distro, major, minor] = await g.batch([
        ['inspect-get-type', root],
        ['inspect-get-distro', root],
        ['inspect-get-major-version', root],
        ['inspect-get-minor-version', root],
      ]);
      if (type!.trim() !== 'linux')
        throw new ImagingError('no-root', `${path}: the operating system found is ${type!.trim()}, not Linux`);
      const points = (await g.call(['inspect-get-mountpoints', root]))
        .split('\n')
        .map((l) => /^(\/\S*): (\S+)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ at: m[1]!, dev: m[2]! }))
        .sort((a, b) => a.at.split('/').length - b.at.split('/').length || a.at.length - b.at.length);
      for (const p of points) await g.call([mount, p.dev, p.at]);
      return {
        g,
        format,
        root,
        os: { type: 'linux', distro: distro!.trim(), version: `${major!.trim()}.${minor!.trim()}` },
      };
    }
    // Inspection found nothing: look for a filesystem that has the shape of a Linux root.
    const fss = (await g.call(['list-filesystems']))
      .split('\n')
      .map((l) => /^(\S+): (\S+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => !!m)
      .filter((m) => LINUX_FS.has(m[2]!))
      .map((m) => m[1]!);
    for (const dev of fss) {
      await g.call(['mount-ro', dev, '/']);
      const [etc, osr, osr2, sh] = await g.batch([
        ['is-dir', '/etc'],
        ['is-file', '/etc/os-release'],
        ['is-file', '/usr/lib/os-release'],
        ['exists', '/bin/sh'],
      ]);
      await g.call(['umount-all']);
      const t = (s: string | undefined) => s!.trim() === 'true';
      if (t(etc) && (t(osr) || t(osr2) || t(sh))) {
        await g.call([mount, dev, '/']);
        return { g, format, root: dev, os: {} };
      }
    }
    throw new ImagingError('no-root', `${path}: no Linux root filesystem found in the image`);
  } catch (e) {
    await g.close();
    if (e instanceof ImagingError) throw e;
    if (e instanceof GuestfsError) throw new ImagingError('tool', `${path}: ${e.message}`);
    throw e;
  }
}
