// Environment variables and the old flat gureum.json keys, each mapped onto a path of the sectioned config.
// Every name that worked before the config had sections still works; docs/configuration.md lists them.

/** One environment variable: the setting it sets and how its text becomes a value. */
export interface EnvSetting {
  env: string;
  path: string;
  parse: (text: string) => unknown;
  /** Only used when the variable named here is unset (an older name of the same switch). */
  unless?: string;
}

/** Thrown for a value that cannot be read; the message is the one line start-up prints. */
export class ConfigError extends Error {}

const str = (t: string) => t;
const int = (env: string) => (t: string) => {
  const n = Number(t);
  if (t.trim() === '' || !Number.isInteger(n)) throw new ConfigError(`${env}: expected a whole number, got "${t}"`);
  return n;
};
const num = (env: string) => (t: string) => {
  const n = Number(t);
  if (t.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${env}: expected a number, got "${t}"`);
  return n;
};
/** "0", "false", "no", "off" are false; anything else is true (as the old switches read). */
const bool = (t: string) => !['0', 'false', 'no', 'off'].includes(t.trim().toLowerCase());

/** Parses "HOST:PORT", "[v6]:PORT" or ":PORT". */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new ConfigError(`listen wants HOST:PORT, got "${value}"`);
  const port = Number(m[3]);
  if (port < 0 || port > 65535) throw new ConfigError(`port out of range in "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** "1:1000,2000:2999" -> [[1, 1000], [2000, 2999]]. */
function ranges(env: string, text: string): [number, number][] {
  return text
    .split(',')
    .filter(Boolean)
    .map((r) => {
      const [a, b] = r.split(':').map(Number);
      if (!Number.isInteger(a) || !Number.isInteger(b) || a! > b!)
        throw new ConfigError(`${env}: bad range "${r}" (want MIN:MAX)`);
      return [a!, b!];
    });
}

/** "physnet1:100:199,public" -> {physnet1: [[100, 199]], public: []}. */
function vlanRanges(text: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [net, a, b] = part.split(':');
    out[net!] = [...(out[net!] ?? []), ...(a ? ranges('GUREUM_NET_VLAN_RANGES', `${a}:${b}`) : [])];
  }
  return out;
}

const tenantType = (t: string) => {
  if (t !== 'vxlan' && t !== 'vlan')
    throw new ConfigError(`GUREUM_NET_TENANT_TYPE: expected vxlan or vlan, got "${t}"`);
  return t;
};

export const ENV_SETTINGS: EnvSetting[] = [
  { env: 'GUREUM_DATA_DIR', path: 'dataDir', parse: str },
  { env: 'GUREUM_DATABASE_URL', path: 'database.url', parse: str },
  { env: 'GUREUM_LISTEN', path: 'server.listen', parse: parseListen },
  { env: 'GUREUM_PUBLIC_URL', path: 'server.publicUrl', parse: str },
  { env: 'GUREUM_REGION', path: 'server.region', parse: str },
  { env: 'GUREUM_LOG_LEVEL', path: 'logging.level', parse: str },
  { env: 'GUREUM_TOKEN_TTL', path: 'identity.tokenTtlSeconds', parse: int('GUREUM_TOKEN_TTL') },
  {
    env: 'GUREUM_LOCKOUT_FAILURE_ATTEMPTS',
    path: 'identity.securityCompliance.lockoutFailureAttempts',
    parse: int('GUREUM_LOCKOUT_FAILURE_ATTEMPTS'),
  },
  {
    env: 'GUREUM_LOCKOUT_DURATION',
    path: 'identity.securityCompliance.lockoutDurationSeconds',
    parse: int('GUREUM_LOCKOUT_DURATION'),
  },
  {
    env: 'GUREUM_UNIQUE_LAST_PASSWORD_COUNT',
    path: 'identity.securityCompliance.uniqueLastPasswordCount',
    parse: int('GUREUM_UNIQUE_LAST_PASSWORD_COUNT'),
  },
  {
    env: 'GUREUM_MINIMUM_PASSWORD_AGE',
    path: 'identity.securityCompliance.minimumPasswordAgeDays',
    parse: int('GUREUM_MINIMUM_PASSWORD_AGE'),
  },
  { env: 'GUREUM_IMAGE_CONVERT_TO', path: 'image.convertTo', parse: str },
  { env: 'GUREUM_IMAGE_SIZE_CAP', path: 'image.sizeCapBytes', parse: int('GUREUM_IMAGE_SIZE_CAP') },
  { env: 'GUREUM_TINY_IMAGE', path: 'image.tinyImage', parse: bool },
  { env: 'GUREUM_NET_BASE_MAC', path: 'network.baseMac', parse: str },
  { env: 'GUREUM_NET_TENANT_TYPE', path: 'network.tenantNetworkType', parse: tenantType },
  { env: 'GUREUM_NET_VNI_RANGES', path: 'network.vniRanges', parse: (t) => ranges('GUREUM_NET_VNI_RANGES', t) },
  { env: 'GUREUM_NET_VLAN_RANGES', path: 'network.vlanRanges', parse: vlanRanges },
  { env: 'GUREUM_NET_MTU', path: 'network.physicalMtu', parse: int('GUREUM_NET_MTU') },
  { env: 'GUREUM_NET_TOPOLOGY', path: 'network.topology', parse: (t) => (t === 'none' ? null : undefined) },
  { env: 'GUREUM_NET_PUBLIC_CIDR', path: 'network.topology.publicCidr', parse: str, unless: 'GUREUM_NET_TOPOLOGY' },
  { env: 'GUREUM_CPU_ALLOCATION_RATIO', path: 'compute.cpuAllocationRatio', parse: num('GUREUM_CPU_ALLOCATION_RATIO') },
  { env: 'GUREUM_RAM_ALLOCATION_RATIO', path: 'compute.ramAllocationRatio', parse: num('GUREUM_RAM_ALLOCATION_RATIO') },
  {
    env: 'GUREUM_DISK_ALLOCATION_RATIO',
    path: 'compute.diskAllocationRatio',
    parse: num('GUREUM_DISK_ALLOCATION_RATIO'),
  },
  {
    env: 'GUREUM_RAM_WEIGHT_MULTIPLIER',
    path: 'compute.ramWeightMultiplier',
    parse: num('GUREUM_RAM_WEIGHT_MULTIPLIER'),
  },
  { env: 'GUREUM_SERVICE_DOWN_TIME', path: 'compute.serviceDownTimeSeconds', parse: int('GUREUM_SERVICE_DOWN_TIME') },
  { env: 'GUREUM_COMPUTE_AGENT', path: 'compute.runAgent', parse: bool },
  { env: 'GUREUM_AGENT_CONCURRENCY', path: 'compute.agentConcurrency', parse: int('GUREUM_AGENT_CONCURRENCY') },
  { env: 'GUREUM_DEFAULT_AZ', path: 'compute.defaultAvailabilityZone', parse: str },
  { env: 'GUREUM_RESUME_GUESTS_ON_HOST_BOOT', path: 'compute.resumeGuestsOnHostBoot', parse: bool },
  {
    env: 'GUREUM_POWER_SYNC_INTERVAL',
    path: 'compute.powerSyncIntervalSeconds',
    parse: int('GUREUM_POWER_SYNC_INTERVAL'),
  },
  { env: 'GUREUM_CONSOLE_TOKEN_TTL', path: 'console.tokenTtlSeconds', parse: int('GUREUM_CONSOLE_TOKEN_TTL') },
  { env: 'GUREUM_NOVNC_DIR', path: 'console.novncDir', parse: str },
  { env: 'GUREUM_METADATA_SECRET_FILE', path: 'metadata.secretFile', parse: str },
  { env: 'GUREUM_METRICS_TOKEN', path: 'observability.metricsToken', parse: str },
  {
    env: 'GUREUM_MONITOR_SAMPLE_SECONDS',
    path: 'observability.sampleIntervalSeconds',
    parse: int('GUREUM_MONITOR_SAMPLE_SECONDS'),
  },
  {
    env: 'GUREUM_AUDIT_RETENTION_DAYS',
    path: 'observability.auditRetentionDays',
    parse: int('GUREUM_AUDIT_RETENTION_DAYS'),
  },
  { env: 'GUREUM_HYPERVISOR', path: 'virt.driver', parse: str },
  // The older switch for the same choice (it only ever said "fake"); GUREUM_HYPERVISOR wins when both are set.
  { env: 'GUREUM_COMPUTE_DRIVER', path: 'virt.driver', parse: str, unless: 'GUREUM_HYPERVISOR' },
  { env: 'GUREUM_ACCEL', path: 'virt.accel', parse: str },
  { env: 'GUREUM_QEMU', path: 'virt.qemuBinary', parse: str },
  { env: 'GUREUM_QEMU_PROBE_KERNEL', path: 'virt.probeKernel', parse: str },
  { env: 'GUREUM_FAKE_HOSTS', path: 'virt.fake.hosts', parse: int('GUREUM_FAKE_HOSTS') },
  { env: 'GUREUM_FAKE_HOST_NAME', path: 'virt.fake.hostName', parse: str },
  { env: 'GUREUM_FAKE_VCPUS', path: 'virt.fake.vcpus', parse: int('GUREUM_FAKE_VCPUS') },
  { env: 'GUREUM_FAKE_MEMORY_MB', path: 'virt.fake.memoryMb', parse: int('GUREUM_FAKE_MEMORY_MB') },
  { env: 'GUREUM_FAKE_LOCAL_GB', path: 'virt.fake.localGb', parse: int('GUREUM_FAKE_LOCAL_GB') },
  { env: 'GUREUM_NET_DRIVER', path: 'net.driver', parse: str },
  { env: 'GUREUM_DATA_PLANE', path: 'net.dataPlane', parse: str },
  { env: 'GUREUM_NET_HOST_GATEWAY', path: 'net.hostGateway', parse: bool },
  { env: 'GUREUM_QEMU_IMG', path: 'disk.qemuImg', parse: str },
  { env: 'GUREUM_IMAGE_CACHE', path: 'imaging.cacheDir', parse: str },
  { env: 'GUREUM_VOLUME_FORMAT', path: 'volume.format', parse: str },
  { env: 'GUREUM_VOLUME_PREALLOCATION', path: 'volume.preallocation', parse: str },
];

/** gureum.json keys from before the config had sections, and where they live now (still read). */
export const LEGACY_FILE_KEYS: Record<string, string> = {
  listen: 'server.listen',
  publicUrl: 'server.publicUrl',
  region: 'server.region',
  maxJsonBodyBytes: 'server.maxJsonBodyBytes',
  databaseUrl: 'database.url',
  logLevel: 'logging.level',
  tokenTtlSeconds: 'identity.tokenTtlSeconds',
  passwordHash: 'identity.passwordHash',
  securityCompliance: 'identity.securityCompliance',
  hypervisor: 'virt.driver',
  accel: 'virt.accel',
  tinyImage: 'image.tinyImage',
  metadataSecretFile: 'metadata.secretFile',
};
