// seal and audit: the same operation list, applied or only reported.
import { openGuest } from './guest.js';
import { DirView, GuestfsView, type GuestView } from './guest-view.js';
import { selectOps, type Finding, type IdentityOp } from './identity-ops.js';

/** What an audit found. `clean` is true when no per-instance identity is left. */
export interface AuditReport {
  image: string;
  clean: boolean;
  /** Operations that were checked. */
  checked: string[];
  findings: Omit<Finding, 'action'>[];
  os?: { distro?: string; version?: string };
}

/** What a seal did (or, with dryRun, would do). */
export interface SealReport {
  image: string;
  dryRun: boolean;
  applied: string[];
  changes: (Omit<Finding, 'action'> & { change: string })[];
}

/** Runs each operation's find on a view. */
export async function findIdentity(v: GuestView, ops: IdentityOp[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const op of ops) out.push(...(await op.find(v)));
  return out;
}

const describe = (f: Finding) => {
  switch (f.action.kind) {
    case 'delete':
      return 'delete';
    case 'truncate':
      return 'empty';
    case 'write':
      return 'rewrite';
    case 'symlink':
      return `replace with a link to ${f.action.target}`;
    case 'touch':
      return 'create';
  }
};

/** Finds and (unless dryRun) applies the chosen operations' changes on a view. */
export async function sealView(
  v: GuestView,
  image: string,
  opts: { skip?: string[]; with?: string[]; dryRun?: boolean } = {},
): Promise<SealReport> {
  const ops = selectOps(opts);
  const findings = await findIdentity(v, ops);
  if (!opts.dryRun) await v.apply(findings.map((f) => ({ path: f.path, action: f.action })));
  return {
    image,
    dryRun: !!opts.dryRun,
    applied: ops.map((o) => o.name),
    changes: findings.map((f) => ({ op: f.op, path: f.path, what: f.what, change: describe(f) })),
  };
}

/** Audits a view with every audited operation (minus `skip`). */
export async function auditView(v: GuestView, image: string, opts: { skip?: string[] } = {}): Promise<AuditReport> {
  const ops = selectOps({ skip: opts.skip }).filter((o) => o.audited);
  const findings = await findIdentity(v, ops);
  return {
    image,
    clean: findings.length === 0,
    checked: ops.map((o) => o.name),
    findings: findings.map(({ op, path, what }) => ({ op, path, what })),
  };
}

/** Seals a disk image file through libguestfs (the image is never mounted by the host kernel). */
export async function sealImage(
  path: string,
  opts: { skip?: string[]; with?: string[]; dryRun?: boolean; format?: string } = {},
): Promise<SealReport> {
  const guest = await openGuest(path, { readonly: !!opts.dryRun, ...(opts.format ? { format: opts.format } : {}) });
  try {
    return await sealView(new GuestfsView(guest.g), path, opts);
  } finally {
    await guest.g.close();
  }
}

/** Audits a disk image file read-only. */
export async function auditImage(path: string, opts: { skip?: string[]; format?: string } = {}): Promise<AuditReport> {
  const guest = await openGuest(path, { readonly: true, ...(opts.format ? { format: opts.format } : {}) });
  try {
    const r = await auditView(new GuestfsView(guest.g), path, opts);
    return {
      ...r,
      os: {
        ...(guest.os.distro ? { distro: guest.os.distro } : {}),
        ...(guest.os.version ? { version: guest.os.version } : {}),
      },
    };
  } finally {
    await guest.g.close();
  }
}

/** Seals a root tree on the host (used by build on the tree it made itself). */
export function sealDirectory(root: string, opts: { skip?: string[]; with?: string[] } = {}): Promise<SealReport> {
  return sealView(new DirView(root), root, opts);
}
