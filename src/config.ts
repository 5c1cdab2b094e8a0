import { readFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';

/** Everything Gureum can be told, frozen after loading. Precedence: defaults < file < env < flags. */
export interface GureumConfig {
  /** Address the single HTTP port binds to. */
  listen: { host: string; port: number };
  /** Where state lives: the SQLite file, images, instances, clouds.yaml. */
  dataDir: string;
  /** `sqlite` (file in dataDir, or `sqlite:PATH`) or a `postgres://` URL. */
  databaseUrl: string;
  /** Base URL advertised in the service catalog; derived from `listen` when empty. */
  publicUrl: string;
  region: string;
  /** Lifetime of an issued token. */
  tokenTtlSeconds: number;
  /** scrypt cost for password hashes; the default is one of OWASP's recommended settings. */
  passwordHash: { N: number; r: number; p: number };
  /** Keystone's [security_compliance]; 0 turns an option off (the default, as in Keystone). */
  securityCompliance: {
    lockoutFailureAttempts: number;
    lockoutDurationSeconds: number;
    uniqueLastPasswordCount: number;
    minimumPasswordAgeDays: number;
  };
  /** Largest JSON body accepted by any API. */
  maxJsonBodyBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Hypervisor driver: `auto` = qemu where qemu-system-x86_64 exists, else fake. */
  hypervisor: 'auto' | 'qemu' | 'fake';
  /** QEMU accelerator: `auto` uses KVM only once a test kernel has booted on it. */
  accel: 'auto' | 'kvm' | 'tcg';
  /** Build and register the default `tiny` image at start (needs apt and the Debian mirror the first time). */
  tinyImage: boolean;
  /** Secret shared by the metadata proxies and the controller (mode 0600); '' = DATA_DIR/metadata-secret. */
  metadataSecretFile: string;
  /** Block storage: the file backend's format for new volumes and its qemu-img preallocation. */
  volume: { format: 'qcow2' | 'raw'; preallocation: 'off' | 'metadata' | 'falloc' | 'full' };
}

export const defaults: GureumConfig = {
  listen: { host: '127.0.0.1', port: 8080 },
  dataDir: './data',
  databaseUrl: 'sqlite',
  publicUrl: '',
  region: 'RegionOne',
  tokenTtlSeconds: 3600,
  // OWASP: scrypt N=2^14 (16 MiB), r=8, p=5 is equivalent in strength to N=2^17, r=8, p=1 with an eighth of the memory.
  passwordHash: { N: 16384, r: 8, p: 5 },
  securityCompliance: { lockoutFailureAttempts: 0, lockoutDurationSeconds: 1800, uniqueLastPasswordCount: 0, minimumPasswordAgeDays: 0 },
  maxJsonBodyBytes: 1024 * 1024,
  logLevel: 'info',
  hypervisor: 'auto',
  accel: 'auto',
  tinyImage: true,
  metadataSecretFile: '',
  volume: { format: 'qcow2', preallocation: 'off' },
};

/** Parses "HOST:PORT", "[v6]:PORT" or ":PORT". */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new Error(`--listen wants HOST:PORT, got "${value}"`);
  const port = Number(m[3]);
  if (port < 0 || port > 65535) throw new Error(`port out of range in "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** Flags understood by `gureum up` that map onto config. */
export interface ConfigFlags {
  listen?: string;
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
  logLevel?: string;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial2<GureumConfig> {
  const out: Partial2<GureumConfig> = {};
  if (env.GUREUM_LISTEN) out.listen = parseListen(env.GUREUM_LISTEN);
  if (env.GUREUM_DATA_DIR) out.dataDir = env.GUREUM_DATA_DIR;
  if (env.GUREUM_DATABASE_URL) out.databaseUrl = env.GUREUM_DATABASE_URL;
  if (env.GUREUM_PUBLIC_URL) out.publicUrl = env.GUREUM_PUBLIC_URL;
  if (env.GUREUM_LOG_LEVEL) out.logLevel = env.GUREUM_LOG_LEVEL as GureumConfig['logLevel'];
  if (env.GUREUM_HYPERVISOR) out.hypervisor = env.GUREUM_HYPERVISOR as GureumConfig['hypervisor'];
  if (env.GUREUM_ACCEL) out.accel = env.GUREUM_ACCEL as GureumConfig['accel'];
  if (env.GUREUM_TINY_IMAGE) out.tinyImage = !['0', 'false', 'no', 'off'].includes(env.GUREUM_TINY_IMAGE.toLowerCase());
  if (env.GUREUM_TOKEN_TTL) out.tokenTtlSeconds = Number(env.GUREUM_TOKEN_TTL);
  const vol: Partial<GureumConfig['volume']> = {};
  if (env.GUREUM_VOLUME_FORMAT) vol.format = env.GUREUM_VOLUME_FORMAT as GureumConfig['volume']['format'];
  if (env.GUREUM_VOLUME_PREALLOCATION) vol.preallocation = env.GUREUM_VOLUME_PREALLOCATION as GureumConfig['volume']['preallocation'];
  if (Object.keys(vol).length) out.volume = vol as GureumConfig['volume'];
  const sc: Partial<GureumConfig['securityCompliance']> = {};
  if (env.GUREUM_LOCKOUT_FAILURE_ATTEMPTS) sc.lockoutFailureAttempts = Number(env.GUREUM_LOCKOUT_FAILURE_ATTEMPTS);
  if (env.GUREUM_LOCKOUT_DURATION) sc.lockoutDurationSeconds = Number(env.GUREUM_LOCKOUT_DURATION);
  if (env.GUREUM_UNIQUE_LAST_PASSWORD_COUNT) sc.uniqueLastPasswordCount = Number(env.GUREUM_UNIQUE_LAST_PASSWORD_COUNT);
  if (env.GUREUM_MINIMUM_PASSWORD_AGE) sc.minimumPasswordAgeDays = Number(env.GUREUM_MINIMUM_PASSWORD_AGE);
  if (Object.keys(sc).length) out.securityCompliance = sc as GureumConfig['securityCompliance'];
  return out;
}

function merge(base: GureumConfig, over: Partial2<GureumConfig>): GureumConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = (base as unknown as Record<string, unknown>)[k];
    out[k] = b && typeof b === 'object' && !Array.isArray(b) ? { ...b, ...(v as object) } : v;
  }
  return out as unknown as GureumConfig;
}

const knownKeys = new Set(Object.keys(defaults));

/** Loads the config: defaults, then a JSON file (flag --config or DATA_DIR/gureum.json), then env, then flags. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): GureumConfig {
  const envPart = fromEnv(env);
  const flagPart: Partial2<GureumConfig> = {};
  if (flags.listen) flagPart.listen = parseListen(flags.listen);
  if (flags.dataDir) flagPart.dataDir = flags.dataDir;
  if (flags.databaseUrl) flagPart.databaseUrl = flags.databaseUrl;
  if (flags.logLevel) flagPart.logLevel = flags.logLevel as GureumConfig['logLevel'];

  const dataDir = resolve(flagPart.dataDir ?? envPart.dataDir ?? defaults.dataDir);
  const file = flags.config ?? join(dataDir, 'gureum.json');
  let filePart: Partial2<GureumConfig> = {};
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const k of Object.keys(parsed)) {
      if (!knownKeys.has(k)) throw new Error(`${file}: unknown setting "${k}"`);
    }
    filePart = parsed as Partial2<GureumConfig>;
    if (typeof parsed.listen === 'string') filePart.listen = parseListen(parsed.listen);
  } else if (flags.config) {
    throw new Error(`config file ${file} does not exist`);
  }
  let cfg = merge(merge(merge(defaults, filePart), envPart), flagPart);
  if (!['qcow2', 'raw'].includes(cfg.volume.format)) throw new Error(`volume.format must be qcow2 or raw, got "${cfg.volume.format}"`);
  if (!['off', 'metadata', 'falloc', 'full'].includes(cfg.volume.preallocation)) throw new Error(`volume.preallocation must be off, metadata, falloc or full, got "${cfg.volume.preallocation}"`);
  cfg = { ...cfg, dataDir };
  if (!cfg.publicUrl) {
    const host = cfg.listen.host === '0.0.0.0' || cfg.listen.host === '::' ? '127.0.0.1' : cfg.listen.host;
    const h = host.includes(':') ? `[${host}]` : host;
    cfg = { ...cfg, publicUrl: `http://${h}:${cfg.listen.port}` };
  }
  return Object.freeze(cfg);
}
