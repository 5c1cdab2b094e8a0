// The shape of Gureum's settings: one TypeBox schema per subsystem's section, the defaults, and which keys are
// secrets. Adding a setting = a property here (with a one-line description), its default, and (if it has one) its
// environment name in env.ts; docs/configuration.md lists them all. Every object is closed: an unknown key in
// gureum.json stops start-up with its name.
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';

const section = <T extends TProperties>(props: T, description: string): TObject<T> =>
  Type.Object(props, { additionalProperties: false, description });
const count = (description: string) => Type.Integer({ minimum: 0, description });
const positive = (description: string) => Type.Integer({ minimum: 1, description });
const range = Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]);

export const ServerSection = section(
  {
    listen: Type.Object(
      { host: Type.String(), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
      {
        additionalProperties: false,
        description: 'Address the one HTTP port binds to ("HOST:PORT" in the file is accepted too)',
      },
    ),
    publicUrl: Type.String({ description: 'Base URL in the service catalog; derived from listen when empty' }),
    region: Type.String({ minLength: 1, description: 'Region of the catalog endpoints' }),
    maxJsonBodyBytes: positive('Largest JSON body any API accepts'),
  },
  'The HTTP server',
);

export const DatabaseSection = section(
  {
    url: Type.String({
      minLength: 1,
      description: '`sqlite` (a file in dataDir), `sqlite:PATH`, `:memory:` or a `postgres://` URL',
    }),
  },
  'Where state is stored',
);

export const LoggingSection = section(
  {
    level: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { description: 'Level of the JSON log lines' },
    ),
  },
  'Logging',
);

export const IdentitySection = section(
  {
    tokenTtlSeconds: positive('Lifetime of an issued token'),
    passwordHash: Type.Object(
      { N: positive('scrypt N'), r: positive('scrypt r'), p: positive('scrypt p') },
      { additionalProperties: false, description: 'scrypt cost of password hashes (the default is an OWASP setting)' },
    ),
    securityCompliance: Type.Object(
      {
        lockoutFailureAttempts: count('Failed logins before a user is locked out (0 = never)'),
        lockoutDurationSeconds: count('How long a lockout lasts'),
        uniqueLastPasswordCount: count('Earlier passwords a new one may not repeat (0 = off)'),
        minimumPasswordAgeDays: count('Days before a password may change again (0 = off)'),
      },
      { additionalProperties: false, description: "Keystone's [security_compliance]; 0 turns an option off" },
    ),
  },
  'Keystone',
);

export const ImageSection = section(
  {
    convertTo: Type.String({
      description: "Format imports are converted to with qemu-img ('' = no conversion, as Glance)",
    }),
    sizeCapBytes: positive("Largest image accepted (Glance's image_size_cap)"),
    tinyImage: Type.Boolean({ description: 'Build and register the default `tiny` image at start' }),
  },
  'Glance',
);

export const NetworkSection = section(
  {
    baseMac: Type.String({
      pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$',
      description: 'MAC prefix; 00 bytes are random',
    }),
    tenantNetworkType: Type.Union([Type.Literal('vxlan'), Type.Literal('vlan')], {
      description: 'Type of tenant networks',
    }),
    vniRanges: Type.Array(range, { description: 'VXLAN ids handed to tenant networks, [[min, max], ...]' }),
    vlanRanges: Type.Record(Type.String(), Type.Array(range), {
      description: 'physnet -> VLAN id ranges ([] = provider VLANs only)',
    }),
    flatNetworks: Type.Array(Type.String(), { description: 'physnets allowed for flat networks ("*" = any)' }),
    physicalMtu: Type.Integer({ minimum: 68, description: 'MTU of the physical network (VXLAN networks get 50 less)' }),
    topology: Type.Union(
      [
        Type.Null(),
        Type.Object(
          {
            publicCidr: Type.String(),
            publicPoolStart: Type.Optional(Type.String()),
            publicPoolEnd: Type.Optional(Type.String()),
            privateCidr: Type.String(),
            physnet: Type.String(),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'First-start public/private networks and router1; null skips them' },
    ),
  },
  'Neutron (the API model)',
);

export const ComputeSection = section(
  {
    cpuAllocationRatio: Type.Number({ exclusiveMinimum: 0, description: "Nova's initial_cpu_allocation_ratio" }),
    ramAllocationRatio: Type.Number({ exclusiveMinimum: 0, description: "Nova's initial_ram_allocation_ratio" }),
    diskAllocationRatio: Type.Number({ exclusiveMinimum: 0, description: "Nova's initial_disk_allocation_ratio" }),
    ramWeightMultiplier: Type.Number({ description: 'Free-RAM weigher: positive spreads, negative stacks' }),
    serviceDownTimeSeconds: positive('Seconds without a heartbeat after which a service is down'),
    runAgent: Type.Boolean({ description: 'Run the compute agent in this process (the all-in-one)' }),
    agentConcurrency: positive('Tasks the agent runs at once'),
    defaultAvailabilityZone: Type.String({ minLength: 1, description: 'Zone of hosts in no zone aggregate' }),
    resumeGuestsOnHostBoot: Type.Boolean({ description: 'Start guests that were running when the host went down' }),
    powerSyncIntervalSeconds: positive('How often guest power states are compared with the database'),
  },
  'Nova',
);

export const ConsoleSection = section(
  {
    tokenTtlSeconds: positive("Lifetime of a console URL's token (Nova's [consoleauth] token_ttl)"),
    novncDir: Type.String({ minLength: 1, description: "Where noVNC's files are" }),
  },
  'Remote consoles',
);

export const MetadataSection = section(
  {
    secretFile: Type.String({
      description: "Secret shared by the metadata proxies (mode 0600); '' = DATA_DIR/metadata-secret",
    }),
  },
  'The metadata service',
);

export const VirtSection = section(
  {
    driver: Type.Union([Type.Literal('auto'), Type.Literal('qemu'), Type.Literal('fake')], {
      description: 'Hypervisor driver: auto = qemu where qemu-system-x86_64 exists, else fake',
    }),
    accel: Type.Union([Type.Literal('auto'), Type.Literal('kvm'), Type.Literal('tcg')], {
      description: 'QEMU accelerator: auto uses KVM only once a test kernel has booted on it',
    }),
    qemuBinary: Type.String({ minLength: 1, description: 'The QEMU system emulator' }),
    probeKernel: Type.String({ description: "Kernel for the KVM proof ('' = the tiny image's kernel)" }),
    fake: Type.Object(
      {
        hosts: positive('Simulated hosts'),
        hostName: Type.String({ minLength: 1, description: 'Their name (a suffix numbers them)' }),
        vcpus: positive('vCPUs of each'),
        memoryMb: positive('RAM of each'),
        localGb: positive('Disk of each'),
      },
      { additionalProperties: false, description: 'The fake driver (API tests, Tempest, benchmarks)' },
    ),
  },
  'Hypervisor drivers',
);

export const NetSection = section(
  {
    driver: Type.Literal('noop', {
      description: 'Data-plane driver when the data plane is `user` (the API model only)',
    }),
    dataPlane: Type.Union([Type.Literal('auto'), Type.Literal('linuxbridge'), Type.Literal('user')], {
      description: 'linuxbridge (bridges, taps, dnsmasq, router namespaces; root), user (QEMU user networking), auto',
    }),
    physnets: Type.Record(
      Type.String(),
      Type.Object(
        { bridge: Type.Optional(Type.String()), interface: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
      { description: 'physnet -> {bridge} (flat networks ride it) or {interface} (enslaved; VLANs are made on it)' },
    ),
    hostOnlyPhysnets: Type.Boolean({
      description: 'Unmapped flat physnets get a host-only bridge on first use; false: their ports fail to bind',
    }),
    hostGateway: Type.Boolean({
      description: "A host-only flat network's subnet gateway lives on the host (devstack's br-ex)",
    }),
    vxlanLocalIp: Type.String({ description: "This host's VXLAN endpoint ('' keeps tenant networks on this host)" }),
  },
  'The network data plane',
);

export const DiskSection = section(
  {
    qemuImg: Type.String({ minLength: 1, description: 'The qemu-img binary' }),
  },
  'Disk tools',
);

export const ImagingSection = section(
  {
    cacheDir: Type.String({ description: "Image factory cache ('' = $XDG_CACHE_HOME/gureum/image-factory)" }),
  },
  'The golden-image factory',
);

export const VolumeSection = section(
  {
    format: Type.Union([Type.Literal('qcow2'), Type.Literal('raw')], {
      description: "The file backend's format for new volumes",
    }),
    preallocation: Type.Union(
      [Type.Literal('off'), Type.Literal('metadata'), Type.Literal('falloc'), Type.Literal('full')],
      { description: 'qemu-img preallocation of new volumes' },
    ),
  },
  'Cinder (block storage)',
);

export const ObservabilitySection = section(
  {
    metricsToken: Type.String({
      description: "Bearer token a Prometheus scrape of /metrics may use ('' = generated into DATA_DIR/metrics-token)",
    }),
    sampleIntervalSeconds: positive("How often the monitoring collector samples running instances' counters"),
    persistIntervalSeconds: positive('How often the time series store is written to DATA_DIR/monitoring'),
    maxInstanceSeries: positive(
      'Instances /metrics and the time series store keep figures for (label cardinality cap)',
    ),
    auditRetentionDays: count('Days the audit trail keeps an event (pruned at start and hourly); 0 = for ever'),
  },
  '/metrics, the built-in instance monitoring and the audit trail',
);

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      minLength: 1,
      description: 'Where state lives: the SQLite file, images, instances, clouds.yaml',
    }),
    database: DatabaseSection,
    server: ServerSection,
    logging: LoggingSection,
    identity: IdentitySection,
    image: ImageSection,
    network: NetworkSection,
    compute: ComputeSection,
    console: ConsoleSection,
    metadata: MetadataSection,
    virt: VirtSection,
    net: NetSection,
    disk: DiskSection,
    imaging: ImagingSection,
    volume: VolumeSection,
    observability: ObservabilitySection,
  },
  { additionalProperties: false },
);

/** Everything Gureum can be told, frozen after loading. Each subsystem is handed its own section. */
export type GureumConfig = Static<typeof ConfigSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] | null ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};
/** Some settings, any depth (a layer: the file, the environment, flags, a test's overrides). */
export type ConfigLayer = DeepPartial<GureumConfig>;

export const defaults: GureumConfig = {
  dataDir: './data',
  database: { url: 'sqlite' },
  server: {
    listen: { host: '127.0.0.1', port: 8080 },
    publicUrl: '',
    region: 'RegionOne',
    maxJsonBodyBytes: 1024 * 1024,
  },
  logging: { level: 'info' },
  identity: {
    tokenTtlSeconds: 3600,
    // OWASP: scrypt N=2^14 (16 MiB), r=8, p=5 is as strong as N=2^17, r=8, p=1 with an eighth of the memory.
    passwordHash: { N: 16384, r: 8, p: 5 },
    securityCompliance: {
      lockoutFailureAttempts: 0,
      lockoutDurationSeconds: 1800,
      uniqueLastPasswordCount: 0,
      minimumPasswordAgeDays: 0,
    },
  },
  image: { convertTo: '', sizeCapBytes: 1024 ** 4, tinyImage: true },
  network: {
    baseMac: 'fa:16:3e:00:00:00',
    tenantNetworkType: 'vxlan',
    vniRanges: [[1, 65535]],
    vlanRanges: { physnet1: [[1000, 1999]], public: [], extnet: [] },
    flatNetworks: ['*'],
    physicalMtu: 1500,
    topology: { publicCidr: '172.24.4.0/24', privateCidr: '10.0.0.0/24', physnet: 'public' },
  },
  compute: {
    cpuAllocationRatio: 4.0,
    ramAllocationRatio: 1.0,
    diskAllocationRatio: 1.0,
    ramWeightMultiplier: 1.0,
    serviceDownTimeSeconds: 60,
    runAgent: true,
    agentConcurrency: 64,
    defaultAvailabilityZone: 'nova',
    resumeGuestsOnHostBoot: false,
    powerSyncIntervalSeconds: 10,
  },
  console: { tokenTtlSeconds: 600, novncDir: '/usr/share/novnc' },
  metadata: { secretFile: '' },
  virt: {
    driver: 'auto',
    accel: 'auto',
    qemuBinary: 'qemu-system-x86_64',
    probeKernel: '',
    fake: { hosts: 1, hostName: 'gureum-compute', vcpus: 64, memoryMb: 131072, localGb: 2000 },
  },
  net: { driver: 'noop', dataPlane: 'auto', physnets: {}, hostOnlyPhysnets: true, hostGateway: true, vxlanLocalIp: '' },
  disk: { qemuImg: 'qemu-img' },
  imaging: { cacheDir: '' },
  volume: { format: 'qcow2', preallocation: 'off' },
  observability: {
    metricsToken: '',
    sampleIntervalSeconds: 60,
    persistIntervalSeconds: 300,
    maxInstanceSeries: 1000,
    auditRetentionDays: 90,
  },
};

/** Settings shown masked by `gureum config show`: a database URL may carry a password. */
export const SECRET_PATHS = new Set(['database.url', 'observability.metricsToken']);
