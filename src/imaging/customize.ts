// customize: what virt-customize does, by virt-customize with an argument array. The guest's own tools run
// inside the libguestfs appliance (a throwaway VM), never on the host.
import { existsSync, statSync } from 'node:fs';
import { ImagingError } from './errors.js';
import { diskFormatOf } from './guest.js';
import { requireTools, runTool } from './tools.js';

/** One customization step, applied in the order given. */
export type CustomizeStep =
  | { kind: 'install'; packages: string[] }
  | { kind: 'root-password-file'; file: string }
  | { kind: 'copy-in'; local: string; remoteDir: string }
  | { kind: 'upload'; local: string; remote: string }
  | { kind: 'run-command'; command: string }
  | { kind: 'enable'; service: string }
  | { kind: 'disable'; service: string }
  | { kind: 'firstboot'; script: string };

const PKG = /^[a-z0-9][a-z0-9+.-]+$/;
const UNIT = /^[A-Za-z0-9@_.:-]+$/;

/** The virt-customize arguments for the steps (validated: a bad name or a missing local file is an error). */
export function customizeArgs(steps: CustomizeStep[]): string[] {
  const args: string[] = [];
  for (const s of steps) {
    switch (s.kind) {
      case 'install':
        for (const p of s.packages)
          if (!PKG.test(p)) throw new ImagingError('bad-input', `--install: "${p}" is not a package name`);
        args.push('--install', s.packages.join(','));
        break;
      case 'root-password-file':
        if (!existsSync(s.file) || !statSync(s.file).isFile())
          throw new ImagingError('bad-input', `--root-password-file: ${s.file} is not a file`);
        args.push('--root-password', `file:${s.file}`);
        break;
      case 'copy-in':
      case 'upload': {
        if (!existsSync(s.local)) throw new ImagingError('bad-input', `--${s.kind}: ${s.local} does not exist`);
        const dest = s.kind === 'copy-in' ? s.remoteDir : s.remote;
        if (!dest.startsWith('/'))
          throw new ImagingError('bad-input', `--${s.kind}: the destination ${dest} must be absolute`);
        if (s.local.includes(':'))
          throw new ImagingError('bad-input', `--${s.kind}: a local path containing ":" is ambiguous`);
        args.push(`--${s.kind}`, `${s.local}:${dest}`);
        break;
      }
      case 'run-command':
        args.push('--run-command', s.command);
        break;
      case 'enable':
      case 'disable':
        if (!UNIT.test(s.service))
          throw new ImagingError('bad-input', `--${s.kind}: "${s.service}" is not a unit name`);
        // The unit name is checked above, so this command line has no shell metacharacters.
        args.push('--run-command', `systemctl ${s.kind} ${s.service}`);
        break;
      case 'firstboot':
        if (!existsSync(s.script)) throw new ImagingError('bad-input', `--firstboot: ${s.script} does not exist`);
        args.push('--firstboot', s.script);
        break;
    }
  }
  return args;
}

/** Applies the steps to a disk image in place. */
export async function customizeImage(
  path: string,
  steps: CustomizeStep[],
  opts: { progress?: (l: string) => void; network?: boolean } = {},
): Promise<void> {
  if (!steps.length)
    throw new ImagingError('bad-input', 'customize: nothing to do (give --install, --upload, --run-command, ...)');
  requireTools({ 'virt-customize': 'libguestfs-tools' });
  const fmt = await diskFormatOf(path);
  const args = [
    '--format',
    fmt,
    '-a',
    path,
    ...(opts.network === false ? ['--no-network'] : []),
    ...customizeArgs(steps),
  ];
  await runTool('virt-customize', args, { timeoutMs: 3_600_000, ...(opts.progress ? { onLine: opts.progress } : {}) });
}
