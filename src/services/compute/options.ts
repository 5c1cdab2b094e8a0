/** Compute settings; read from the environment (GUREUM_COMPUTE_*) until the config file grows a compute section. */
export interface ComputeOptions {
  /** Hypervisor driver: "fake" (default here) or "qemu" once it exists. */
  driver: string;
  /** Fake driver: number of simulated hosts and their size. */
  fakeHosts: number;
  fakeHostName: string;
  fakeVcpus: number;
  fakeMemoryMb: number;
  fakeLocalGb: number;
  /** Initial allocation ratios (Nova's initial_*_allocation_ratio). */
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  /** Weigher multiplier for free RAM: positive spreads, negative stacks. */
  ramWeightMultiplier: number;
  /** Seconds without a heartbeat after which a service is down. */
  serviceDownTime: number;
  /** Run the in-process agent for the local hosts (the all-in-one). */
  runAgent: boolean;
  /** Tasks an agent runs at once. */
  agentConcurrency: number;
  /** Default availability zone of hosts not in an AZ aggregate. */
  defaultAz: string;
}

const num = (v: string | undefined, d: number): number => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);

/** Options from env, with overrides (tests and benchmarks pass them directly). */
export function computeOptions(env: NodeJS.ProcessEnv = process.env, over: Partial<ComputeOptions> = {}): ComputeOptions {
  return {
    driver: env.GUREUM_COMPUTE_DRIVER ?? 'fake',
    fakeHosts: num(env.GUREUM_FAKE_HOSTS, 1),
    fakeHostName: env.GUREUM_FAKE_HOST_NAME ?? 'gureum-compute',
    fakeVcpus: num(env.GUREUM_FAKE_VCPUS, 64),
    fakeMemoryMb: num(env.GUREUM_FAKE_MEMORY_MB, 131072),
    fakeLocalGb: num(env.GUREUM_FAKE_LOCAL_GB, 2000),
    cpuAllocationRatio: num(env.GUREUM_CPU_ALLOCATION_RATIO, 4.0),
    ramAllocationRatio: num(env.GUREUM_RAM_ALLOCATION_RATIO, 1.0),
    diskAllocationRatio: num(env.GUREUM_DISK_ALLOCATION_RATIO, 1.0),
    ramWeightMultiplier: num(env.GUREUM_RAM_WEIGHT_MULTIPLIER, 1.0),
    serviceDownTime: num(env.GUREUM_SERVICE_DOWN_TIME, 60),
    runAgent: env.GUREUM_COMPUTE_AGENT !== '0',
    agentConcurrency: num(env.GUREUM_AGENT_CONCURRENCY, 64),
    defaultAz: env.GUREUM_DEFAULT_AZ ?? 'nova',
    ...over,
  };
}
