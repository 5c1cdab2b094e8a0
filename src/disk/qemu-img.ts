// qemu-img, always with an explicit -f so it never guesses the format of an untrusted file.
import { execFile } from 'node:child_process';

let binary = 'qemu-img';

/**
 * Sets the qemu-img binary (config disk.qemuImg) once at start. A process-wide setting on purpose: every disk
 * helper runs the same host tool, and threading it through each call would only add noise.
 */
export function useQemuImg(path: string): void {
  binary = path;
}

/** The qemu-img binary in use. */
export const qemuImgBinary = (): string => binary;

/** Glance disk_format (or a detected format) to the name qemu-img uses. */
export function qemuFormat(format: string): string {
  switch (format) {
    case 'vhd':
      return 'vpc';
    case 'iso':
    case 'gpt':
    case 'ami':
    case 'ari':
    case 'aki':
      return 'raw';
    default:
      return format;
  }
}

/** Formats qemu-img can write as a conversion target. */
export const CONVERT_TARGETS = new Set(['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx']);

/** A failed qemu-img run, with what it printed. */
export class QemuImgError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'QemuImgError';
  }
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const text = String(stderr || err.message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' ');
        reject(new QemuImgError(`qemu-img ${args[0]} failed: ${text}`, String(stderr)));
      } else {
        resolve(String(stdout));
      }
    });
  });
}

/** What `qemu-img info` says about a file read as `format`. */
export interface QemuImgInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
}

/** `qemu-img info -f FORMAT --output=json FILE` (only on files the inspector accepted). */
export async function info(path: string, format: string, timeoutMs = 60_000): Promise<QemuImgInfo> {
  const out = JSON.parse(await run(['info', '-f', qemuFormat(format), '--output=json', path], timeoutMs)) as Record<
    string,
    unknown
  >;
  return {
    format: String(out.format),
    virtualSize: Number(out['virtual-size']),
    ...(typeof out['actual-size'] === 'number' ? { actualSize: out['actual-size'] } : {}),
    ...(typeof out['backing-filename'] === 'string' ? { backingFile: out['backing-filename'] } : {}),
  };
}

/** `qemu-img convert -f FROM -O TO SRC DST`; the source must have passed the inspector. */
export async function convert(
  src: string,
  fromFormat: string,
  dst: string,
  toFormat: string,
  timeoutMs = 3_600_000,
): Promise<void> {
  await run(['convert', '-f', qemuFormat(fromFormat), '-O', qemuFormat(toFormat), src, dst], timeoutMs);
}

/** `qemu-img create -f FORMAT [-o OPTS] FILE SIZE` (tests and tools). */
export async function create(
  path: string,
  format: string,
  size: number | string,
  options: string[] = [],
): Promise<void> {
  const args = ['create', '-f', qemuFormat(format)];
  if (options.length) args.push('-o', options.join(','));
  args.push(path, String(size));
  await run(args, 60_000);
}
