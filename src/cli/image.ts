// `gureum image build|customize|seal|audit|convert|compress|sparsify|shrink|publish|capture|ops`: the golden
// image factory. Local files are handled directly; `--image NAME|ID` works on an image of a running cloud
// through its HTTP APIs (credentials: OS_* variables or DATA_DIR/clouds.yaml): the image is downloaded, the
// step runs on the copy, and a changed image is uploaded as a new one (Glance image data is immutable).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { processEnv } from '../config/process-env.js';
import { CloudClient, findCredentials } from '../imaging/cloud-client.js';
import { buildImage } from '../imaging/build.js';
import { customizeImage, type CustomizeStep } from '../imaging/customize.js';
import { convertImage, shrinkImage, sparsifyImage, type SizeReport } from '../imaging/disk-tools.js';
import { ImagingError } from '../imaging/errors.js';
import { IDENTITY_OPS } from '../imaging/identity-ops.js';
import {
  auditProperty,
  captureServer,
  carriedProperties,
  publishImage,
  withDownloaded,
  type ImageRepo,
} from '../imaging/publish.js';
import { loadRecipe } from '../imaging/recipe.js';
import { auditImage, sealImage, type AuditReport, type SealReport } from '../imaging/seal.js';

export const IMAGE_USAGE = `Usage: gureum image <step> [FILE | --image NAME|ID] [options]

Steps:
  build RECIPE            Debian image from recipes/RECIPE.json (or a path) with debootstrap (root)
                          --output FILE (default RECIPE.qcow2) --format qcow2|raw --cache-dir DIR --no-cache
  customize               --install PKG[,PKG] --root-password-file FILE | --root-password-prompt
                          --copy-in LOCAL:DIR --upload FILE:DEST --run-command CMD --enable UNIT
                          --disable UNIT --firstboot SCRIPT --no-network   (applied in the order given)
  seal                    remove per-instance identity: --skip OP,OP --with unconfigured --dry-run
  audit                   report identity left (read-only); exit 1 when any is left
  convert                 --to qcow2|raw|vmdk|vdi|vhdx [--output FILE]
  compress                qcow2 with compressed clusters [--output FILE]
  sparsify                virt-sparsify --in-place
  shrink                  resize2fs -M inside libguestfs, then the partition, then qemu-img resize --shrink
  publish FILE --name N   upload (refused when the audit fails unless --force); --recipe R, --min-ram MB,
                          --os-distro D, --os-version V, --property K=V, --visibility public|private|...
  capture SERVER NAME     server image create, then seal + compress + publish NAME [--keep-snapshot]
  ops                     list the sealing operations
Common: --json (machine-readable output), --data-dir DIR (cloud credentials from DIR/clouds.yaml;
        env GUREUM_DATA_DIR, default ./data; OS_* variables win), --name NEW (name of the derived image
        when a step changes an --image)
`;

type Flag = { name: string; value: string | true };

const BOOLEAN = new Set([
  'json',
  'dry-run',
  'force',
  'no-cache',
  'no-network',
  'keep-snapshot',
  'root-password-prompt',
  'help',
]);
const REPEATABLE = new Set([
  'install',
  'copy-in',
  'upload',
  'run-command',
  'enable',
  'disable',
  'firstboot',
  'property',
  'skip',
  'with',
]);

/** Ordered flags (customize applies them in order) plus positionals. */
function parse(argv: string[]): { positionals: string[]; flags: Flag[] } {
  const positionals: string[] = [];
  const flags: Flag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (BOOLEAN.has(name)) {
      if (eq !== -1) throw new ImagingError('bad-input', `--${name} takes no value`);
      flags.push({ name, value: true });
    } else if (eq !== -1) flags.push({ name, value: a.slice(eq + 1) });
    else if (i + 1 < argv.length) flags.push({ name, value: argv[++i]! });
    else throw new ImagingError('bad-input', `--${name} needs a value`);
  }
  return { positionals, flags };
}

class Flags {
  constructor(
    private readonly list: Flag[],
    allowed: string[],
  ) {
    const ok = new Set([...allowed, 'json', 'data-dir', 'help']);
    for (const f of list)
      if (!ok.has(f.name)) throw new ImagingError('bad-input', `unknown option --${f.name} (see gureum image --help)`);
    const seen = new Set<string>();
    for (const f of list) {
      if (seen.has(f.name) && !REPEATABLE.has(f.name)) throw new ImagingError('bad-input', `--${f.name} given twice`);
      seen.add(f.name);
    }
  }
  bool(n: string) {
    return this.list.some((f) => f.name === n);
  }
  str(n: string) {
    const f = this.list.find((x) => x.name === n);
    return f ? String(f.value) : undefined;
  }
  all(n: string) {
    return this.list.filter((f) => f.name === n).map((f) => String(f.value));
  }
  ordered() {
    return this.list;
  }
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);
const human = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const list = (vals: string[]) =>
  vals
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

function printAudit(r: AuditReport) {
  if (r.clean) {
    out(`${r.image}: clean (${r.checked.length} operations checked)`);
    return;
  }
  out(`${r.image}: ${r.findings.length} per-instance identities left`);
  for (const f of r.findings) out(`  ${f.op.padEnd(15)} ${f.path}  (${f.what})`);
}

function printSeal(r: SealReport) {
  out(`${r.image}: ${r.dryRun ? 'would make' : 'made'} ${r.changes.length} changes`);
  for (const c of r.changes) out(`  ${c.op.padEnd(15)} ${c.change.padEnd(8)} ${c.path}  (${c.what})`);
}

function printSizes(r: SizeReport) {
  out(
    `${r.step} ${r.output} (${r.format}): virtual ${human(r.before.virtualBytes)} → ${human(r.after.virtualBytes)}, ` +
      `file ${human(r.before.fileBytes)} → ${human(r.after.fileBytes)}`,
  );
}

async function repoFor(f: Flags): Promise<ImageRepo> {
  const dataDir = resolve(f.str('data-dir') ?? loadConfig().dataDir);
  return CloudClient.login(findCredentials(dataDir, processEnv));
}

/** Runs a step on FILE or on --image (uploading a derived image named --name when the step changed it). */
async function onTarget<T>(
  p: { positionals: string[] },
  f: Flags,
  step: string,
  run: (file: string) => Promise<T>,
  changes: (r: T) => boolean,
): Promise<{ result: T; derived?: { id: string; name: string | null } }> {
  const imageRef = f.str('image');
  if (imageRef) {
    if (p.positionals.length) throw new ImagingError('bad-input', `give either FILE or --image, not both`);
    const repo = await repoFor(f);
    return withDownloaded(repo, imageRef, async (file, img) => {
      const result = await run(file);
      if (!changes(result)) return { result };
      const name = f.str('name') ?? `${img.name ?? img.id}-${step}`;
      const { image } = await publishImage(repo, file, {
        name,
        properties: carriedProperties(img),
        force: true,
        ...(typeof img.min_ram === 'number' ? { minRamMb: img.min_ram } : {}),
      });
      return { result, derived: { id: image.id, name: image.name } };
    });
  }
  if (p.positionals.length !== 1)
    throw new ImagingError('bad-input', `${step}: give one image FILE or --image NAME|ID`);
  return { result: await run(resolve(p.positionals[0]!)) };
}

function reportDerived(d: { id: string; name: string | null } | undefined, json: boolean) {
  if (d && !json) out(`uploaded as image ${d.id} (${d.name})`);
}

async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY)
    throw new ImagingError('bad-input', '--root-password-prompt needs a terminal; use --root-password-file');
  process.stderr.write('root password: ');
  process.stdin.setRawMode(true);
  process.stdin.resume();
  let pw = '';
  return new Promise((res, rej) => {
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          return res(pw);
        }
        if (ch === '\u0003') {
          done();
          return rej(new ImagingError('bad-input', 'cancelled'));
        }
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stderr.write('\n');
    };
    process.stdin.on('data', onData);
  });
}

/** `gureum image ...`; returns the exit code. */
export async function imageCommand(argv: string[]): Promise<number> {
  const [step, ...rest] = argv;
  if (!step || step === 'help' || step === '--help') {
    process.stdout.write(IMAGE_USAGE);
    return step ? 0 : 2;
  }
  const p = parse(rest);
  const targetFlags = ['image', 'name'];
  try {
    switch (step) {
      case 'ops': {
        const f = new Flags(p.flags, []);
        if (f.bool('json'))
          out(
            JSON.stringify(
              IDENTITY_OPS.map(({ name, description, defaultOn, audited }) => ({
                name,
                description,
                defaultOn,
                audited,
              })),
              null,
              2,
            ),
          );
        else for (const o of IDENTITY_OPS) out(`${o.name.padEnd(16)}${o.defaultOn ? '' : '(opt-in) '}${o.description}`);
        return 0;
      }
      case 'build': {
        const f = new Flags(p.flags, ['output', 'format', 'cache-dir', 'no-cache']);
        if (p.positionals.length !== 1)
          throw new ImagingError('bad-input', 'build: give one RECIPE (a name in recipes/ or a path)');
        const recipe = loadRecipe(p.positionals[0]!);
        const format = f.str('format') ?? 'qcow2';
        const cacheDir = f.str('cache-dir') ?? (loadConfig().imaging.cacheDir || undefined);
        if (format !== 'qcow2' && format !== 'raw')
          throw new ImagingError('bad-input', '--format must be qcow2 or raw');
        const r = await buildImage(recipe, {
          output: f.str('output') ?? `${recipe.name}.${format}`,
          format,
          noCache: f.bool('no-cache'),
          ...(cacheDir ? { cacheDir } : {}),
          progress: (l) => err(l),
        });
        if (f.bool('json')) out(JSON.stringify(r, null, 2));
        else
          out(
            `built ${r.output} (${r.format}, ${human(r.sizeBytes)} virtual, ${human(r.fileBytes)} file) in ` +
              `${r.seconds.toFixed(0)} s${r.cached.length ? `; cached: ${r.cached.join(', ')}` : ''}`,
          );
        return 0;
      }
      case 'customize': {
        const f = new Flags(p.flags, [
          ...targetFlags,
          'install',
          'root-password-file',
          'root-password-prompt',
          'copy-in',
          'upload',
          'run-command',
          'enable',
          'disable',
          'firstboot',
          'no-network',
        ]);
        const steps: CustomizeStep[] = [];
        let pwDir: string | undefined;
        try {
          for (const fl of f.ordered()) {
            const v = String(fl.value);
            const pair = (what: string) => {
              const i = v.lastIndexOf(':');
              if (i <= 0 || i === v.length - 1) throw new ImagingError('bad-input', `--${what} wants LOCAL:DEST`);
              return [v.slice(0, i), v.slice(i + 1)] as const;
            };
            switch (fl.name) {
              case 'install':
                steps.push({ kind: 'install', packages: list([v]) });
                break;
              case 'root-password-file':
                steps.push({ kind: 'root-password-file', file: resolve(v) });
                break;
              case 'root-password-prompt': {
                const pw = await promptPassword();
                pwDir = mkdtempSync(join(tmpdir(), 'gureum-pw-'));
                writeFileSync(join(pwDir, 'pw'), pw, { mode: 0o600 });
                steps.push({ kind: 'root-password-file', file: join(pwDir, 'pw') });
                break;
              }
              case 'copy-in': {
                const [l, d] = pair('copy-in');
                steps.push({ kind: 'copy-in', local: resolve(l), remoteDir: d });
                break;
              }
              case 'upload': {
                const [l, d] = pair('upload');
                steps.push({ kind: 'upload', local: resolve(l), remote: d });
                break;
              }
              case 'run-command':
                steps.push({ kind: 'run-command', command: v });
                break;
              case 'enable':
                steps.push({ kind: 'enable', service: v });
                break;
              case 'disable':
                steps.push({ kind: 'disable', service: v });
                break;
              case 'firstboot':
                steps.push({ kind: 'firstboot', script: resolve(v) });
                break;
            }
          }
          const { derived } = await onTarget(
            p,
            f,
            'customized',
            async (file) => {
              await customizeImage(file, steps, {
                progress: (l) => err(l),
                ...(f.bool('no-network') ? { network: false } : {}),
              });
              return true;
            },
            () => true,
          );
          if (f.bool('json')) out(JSON.stringify({ steps: steps.length, ...(derived ? { image: derived } : {}) }));
          else {
            out(`customized (${steps.length} steps)`);
            reportDerived(derived, false);
          }
          // virt-customize writes a machine-id and random seed, and package installs write logs and caches.
          err(
            'note: customize leaves per-instance identity (virt-customize sets /etc/machine-id; installs write logs ' +
              'and caches): run `gureum image seal` before publishing',
          );
        } finally {
          if (pwDir) rmSync(pwDir, { recursive: true, force: true });
        }
        return 0;
      }
      case 'seal': {
        const f = new Flags(p.flags, [...targetFlags, 'skip', 'with', 'dry-run']);
        const opts = { skip: list(f.all('skip')), with: list(f.all('with')), dryRun: f.bool('dry-run') };
        const { result, derived } = await onTarget(
          p,
          f,
          'sealed',
          (file) => sealImage(file, opts),
          (r) => !r.dryRun && r.changes.length > 0,
        );
        if (f.bool('json')) out(JSON.stringify({ ...result, ...(derived ? { derived } : {}) }, null, 2));
        else {
          printSeal(result);
          reportDerived(derived, false);
        }
        return 0;
      }
      case 'audit': {
        const f = new Flags(p.flags, ['image', 'skip']);
        const skip = list(f.all('skip'));
        const imageRef = f.str('image');
        let r: AuditReport;
        if (imageRef) {
          const repo = await repoFor(f);
          r = await withDownloaded(repo, imageRef, async (file, img) => {
            const a = await auditImage(file, { skip });
            // The result is recorded on the image itself (properties stay writable on an active image).
            await repo
              .setProperties(img.id, { gureum_audit: auditProperty(a) }, img)
              .catch((e: Error) => err(`warning: could not record the audit on the image: ${e.message}`));
            return { ...a, image: img.id };
          });
        } else {
          r = (
            await onTarget(
              p,
              f,
              'audited',
              (file) => auditImage(file, { skip }),
              () => false,
            )
          ).result;
        }
        if (f.bool('json')) out(JSON.stringify(r, null, 2));
        else printAudit(r);
        return r.clean ? 0 : 1;
      }
      case 'convert':
      case 'compress': {
        const f = new Flags(p.flags, [...targetFlags, 'output', ...(step === 'convert' ? ['to'] : [])]);
        if (step === 'convert' && !f.str('to')) throw new ImagingError('bad-input', 'convert: --to FORMAT is required');
        if (f.str('image') && f.str('output'))
          throw new ImagingError('bad-input', '--output applies to local files; with --image use --name');
        const { result, derived } = await onTarget(
          p,
          f,
          step === 'convert' ? f.str('to')! : 'compressed',
          (file) =>
            convertImage(file, {
              ...(step === 'convert'
                ? { toFormat: f.str('to') === 'vhd' ? 'vpc' : f.str('to')! }
                : { toFormat: 'qcow2', compress: true }),
              ...(f.str('output') ? { output: resolve(f.str('output')!) } : {}),
            }),
          () => true,
        );
        if (f.bool('json')) out(JSON.stringify({ ...result, ...(derived ? { derived } : {}) }, null, 2));
        else {
          printSizes(result);
          reportDerived(derived, false);
        }
        return 0;
      }
      case 'sparsify':
      case 'shrink': {
        const f = new Flags(p.flags, targetFlags);
        const { result, derived } = await onTarget(
          p,
          f,
          step === 'shrink' ? 'shrunk' : 'sparsified',
          (file) => (step === 'shrink' ? shrinkImage(file) : sparsifyImage(file)),
          () => true,
        );
        if (f.bool('json')) out(JSON.stringify({ ...result, ...(derived ? { derived } : {}) }, null, 2));
        else {
          printSizes(result);
          reportDerived(derived, false);
        }
        return 0;
      }
      case 'publish': {
        const f = new Flags(p.flags, [
          'name',
          'recipe',
          'min-ram',
          'os-distro',
          'os-version',
          'property',
          'visibility',
          'force',
        ]);
        if (p.positionals.length !== 1) throw new ImagingError('bad-input', 'publish: give one image FILE');
        const name = f.str('name');
        if (!name) throw new ImagingError('bad-input', 'publish: --name is required');
        const recipe = f.str('recipe') ? loadRecipe(f.str('recipe')!) : undefined;
        const props: Record<string, string> = { ...recipe?.properties };
        for (const kv of f.all('property')) {
          const i = kv.indexOf('=');
          if (i <= 0) throw new ImagingError('bad-input', `--property wants KEY=VALUE, got "${kv}"`);
          props[kv.slice(0, i)] = kv.slice(i + 1);
        }
        const minRam = f.str('min-ram') ?? (recipe ? String(recipe.minRamMb) : undefined);
        if (minRam !== undefined && !/^\d+$/.test(minRam))
          throw new ImagingError('bad-input', '--min-ram wants MiB as a whole number');
        const vis = f.str('visibility');
        if (vis && !['public', 'private', 'shared', 'community'].includes(vis))
          throw new ImagingError('bad-input', '--visibility: public, private, shared or community');
        const repo = await repoFor(f);
        const { image, audit } = await publishImage(repo, resolve(p.positionals[0]!), {
          name,
          properties: props,
          force: f.bool('force'),
          ...(minRam !== undefined ? { minRamMb: Number(minRam) } : {}),
          ...((f.str('os-distro') ?? recipe?.distro) ? { osDistro: (f.str('os-distro') ?? recipe?.distro)! } : {}),
          ...((f.str('os-version') ?? recipe?.version) ? { osVersion: (f.str('os-version') ?? recipe?.version)! } : {}),
          ...(vis ? { visibility: vis as 'public' } : {}),
        });
        if (f.bool('json')) out(JSON.stringify({ image, audit }, null, 2));
        else
          out(
            `published ${image.id} (${image.name}): min_disk ${String(image.min_disk)} GiB, min_ram ` +
              `${String(image.min_ram)} MiB, audit ${auditProperty(audit)}`,
          );
        return 0;
      }
      case 'capture': {
        const f = new Flags(p.flags, ['keep-snapshot', 'force']);
        if (p.positionals.length !== 2) throw new ImagingError('bad-input', 'capture: give SERVER and NAME');
        const repo = await repoFor(f);
        const r = await captureServer(repo, p.positionals[0]!, p.positionals[1]!, {
          keepSnapshot: f.bool('keep-snapshot'),
          force: f.bool('force'),
          progress: (l) => err(l),
        });
        if (f.bool('json')) out(JSON.stringify(r, null, 2));
        else
          out(
            `captured ${p.positionals[0]} as image ${r.image.id} (${r.image.name}): ` +
              `${r.seal.changes.length} identities sealed, audit ${auditProperty(r.audit)}` +
              (r.snapshotDeleted ? '; snapshot deleted' : `; snapshot ${r.snapshotId} kept`),
          );
        return 0;
      }
      default:
        err(`gureum image: unknown step "${step}"\n`);
        process.stderr.write(IMAGE_USAGE);
        return 2;
    }
  } catch (e) {
    if (e instanceof ImagingError) {
      err(`gureum image ${step}: ${e.message}`);
      return e.code === 'bad-input' || e.code === 'not-found' ? 2 : 3;
    }
    throw e;
  }
}
