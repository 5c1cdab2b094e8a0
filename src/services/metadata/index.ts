// The metadata service: answers a guest's questions about itself (OpenStack and EC2 trees), for the instance
// the data plane says is asking (the per-instance proxy signs the instance id), and writes config drives.
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../util/paths.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import { buildConfigDrive } from '../../disk/config-drive.js';
import {
  defaultMetadataOptions,
  loadInstanceMetadata,
  PASSWORD_CHUNK,
  PASSWORD_CHUNKS,
  type InstanceMetadata,
  type MetadataOptions,
} from './model.js';
import { configDriveFiles, lookup, rootTree, type Lookup } from './trees.js';
import { ensureSecret, verifyInstanceId } from './signing.js';

export type { InstanceMetadata, MetadataOptions, MetadataNic } from './model.js';
export { metadataFromRow, loadInstanceMetadata } from './model.js';
export {
  configDriveFiles,
  openstackMetaData,
  networkData,
  ec2MetaData,
  lookup,
  rootTree,
  OPENSTACK_VERSIONS,
  EC2_VERSIONS,
} from './trees.js';
export { signInstanceId, verifyInstanceId, ensureSecret } from './signing.js';

/** Path prefix of the controller's metadata routes (not in the service catalog). */
export const METADATA_PREFIX = '/metadata-internal';

/** The proxy program QEMU runs per guest connection (compiled next to this file). */
export const GUEST_PROXY_PATH = fileURLToPath(new URL('./guest-proxy.js', import.meta.url));

/** Result of a guest posting its password. */
export type PasswordResult = 'stored' | 'conflict' | 'too-large' | 'not-found';

/** argv of the per-connection proxy for one instance. */
export function metadataProxyCommand(o: {
  instanceId: string;
  controllerUrl: string;
  secretFile: string;
  node?: string;
}): string[] {
  return [
    o.node ?? process.execPath,
    GUEST_PROXY_PATH,
    '--instance-id',
    o.instanceId,
    '--url',
    `${o.controllerUrl.replace(/\/+$/, '')}${METADATA_PREFIX}`,
    '--key-file',
    o.secretFile,
  ];
}

/** One word as GLib's g_shell_parse_argv reads it back (libslirp parses guestfwd's cmd: that way): single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `guestfwd=` value for QEMU's -netdev user: commas doubled, as QEMU's option parser wants. */
export function guestfwdOption(argv: string[], addr = '169.254.169.254', port = 80): string {
  return `tcp:${addr}:${port}-cmd:${argv.map(shellWord).join(' ')}`.replace(/,/g, ',,');
}

export class MetadataService {
  readonly secretFile: string;
  private readonly secret: string;
  private controllerUrl: string;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      dataDir: string;
      secretFile?: string;
      controllerUrl: string;
      options?: Partial<MetadataOptions>;
    },
  ) {
    this.secretFile = deps.secretFile || dataPaths(deps.dataDir).metadataSecret;
    this.secret = ensureSecret(this.secretFile);
    this.controllerUrl = deps.controllerUrl;
  }

  get options(): MetadataOptions {
    return { ...defaultMetadataOptions, ...this.deps.options };
  }

  /** Where proxies reach the controller (set again once the listening port is known). */
  setControllerUrl(url: string): void {
    this.controllerUrl = url;
  }

  /**
   * Where and how the host's metadata agent forwards for namespace proxies: the API base URL and the signing secret.
   */
  nsTarget(): { url: string; secret: string } {
    return { url: `${this.controllerUrl.replace(/\/+$/, '')}${METADATA_PREFIX}`, secret: this.secret };
  }

  /** argv of the per-connection metadata proxy for an instance (for QEMU's guestfwd ... -cmd:). */
  proxyCommand(instanceId: string): string[] {
    return metadataProxyCommand({ instanceId, controllerUrl: this.controllerUrl, secretFile: this.secretFile });
  }

  /** True when the signature is the proxy's for this instance id. */
  verify(instanceId: string, signature: string): boolean {
    return verifyInstanceId(this.secret, instanceId, signature);
  }

  /** The instance's metadata, or undefined when it does not exist (or is deleted). */
  load(instanceId: string): Promise<InstanceMetadata | undefined> {
    return loadInstanceMetadata(this.deps.db, instanceId);
  }

  /** Resolves a guest's path ("openstack/latest/meta_data.json", "latest/meta-data/hostname") for an instance. */
  async resolve(instanceId: string, path: string): Promise<Lookup> {
    const md = await this.load(instanceId);
    if (!md) return null;
    return lookup(rootTree(md, this.options), path);
  }

  /**
   * Stores the password a guest posts to /openstack/<version>/password (Nova: once, at most 4 x 255 characters, kept in
   * system_metadata as password_0..3); `conflict` when one is already set.
   */
  async setPassword(instanceId: string, password: string): Promise<PasswordResult> {
    if (password.length > PASSWORD_CHUNKS * PASSWORD_CHUNK) return 'too-large';
    return this.deps.db.transaction().execute(async (trx) => {
      const r = await trx
        .selectFrom('compute_instances')
        .select(['system_metadata'])
        .where('id', '=', instanceId)
        .where('deleted', '=', 0)
        .executeTakeFirst();
      if (!r) return 'not-found';
      let sys: Record<string, string> = {};
      try {
        sys = JSON.parse(r.system_metadata) as Record<string, string>;
      } catch {
        sys = {};
      }
      if (Object.keys(sys).some((k) => /^password_\d$/.test(k) && sys[k])) return 'conflict';
      for (let i = 0; i < PASSWORD_CHUNKS; i++)
        sys[`password_${i}`] = password.slice(i * PASSWORD_CHUNK, (i + 1) * PASSWORD_CHUNK);
      await trx
        .updateTable('compute_instances')
        .set({ system_metadata: JSON.stringify(sys) })
        .where('id', '=', instanceId)
        .execute();
      return 'stored';
    });
  }

  /** Writes the instance's config drive (ISO 9660, label config-2) to `dest`; throws when the instance is gone. */
  async writeConfigDrive(instanceId: string, dest: string): Promise<void> {
    const md = await this.load(instanceId);
    if (!md) throw new Error(`instance ${instanceId} not found for its config drive`);
    await buildConfigDrive(configDriveFiles(md, this.options), dest);
  }
}

/** The loopback URL proxies use to reach a controller listening on `listen` (any-address binds become loopback). */
export function loopbackUrl(listen: { host: string; port: number }): string {
  const host =
    listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}
