// This process's compute host (the all-in-one runs one): the agent that claims and runs the hypervisor's tasks and,
// for drivers whose guests outlive the process (not the fake), the restart reconciler and power-state sync. Built
// here, by the composition root, from the compute service's parts; the service itself builds no driver or loop.
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';
import type { HypervisorDriver } from '../virt/index.js';
import { ComputeAgent, ComputeManager, HostReconciler, type ComputeService } from '../services/compute/index.js';
import type { TaskLogger } from '../services/compute/task-log.js';

export interface ComputeHost {
  readonly driver: HypervisorDriver;
  readonly agent: ComputeAgent;
  /** Null for the fake driver (its guests end with the process). */
  readonly reconciler: HostReconciler | null;
  /** Reconciles what survived a restart, then starts the agent loop and the power-state sync. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function buildComputeHost(
  db: Kysely<Database>,
  compute: ComputeService,
  driver: HypervisorDriver,
  log?: TaskLogger,
): ComputeHost {
  const o = compute.options;
  const manager = new ComputeManager(db, driver, {
    queue: compute.queue,
    actions: compute.actions,
    servers: compute.servers,
    scheduler: compute.scheduler,
    image: () => compute.image,
    network: () => compute.network,
    volume: () => compute.volume,
  });
  const agent = new ComputeAgent(driver, compute.hosts, compute.queue, manager, {
    concurrency: o.agentConcurrency,
    workerId: `agent-${hostname()}`,
    allHosts: true,
    log,
  });
  const reconciler =
    driver.type !== 'fake'
      ? new HostReconciler(db, driver, {
          resumeGuestsOnHostBoot: o.resumeGuestsOnHostBoot,
          syncIntervalSec: o.powerSyncIntervalSeconds,
        })
      : null;
  return {
    driver,
    agent,
    reconciler,
    async start() {
      if (reconciler) await reconciler.initHost();
      await agent.start();
      reconciler?.start();
    },
    async stop() {
      await reconciler?.stop();
      await agent.stop();
    },
  };
}
