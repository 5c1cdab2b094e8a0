// Power and lifecycle actions that only queue a task for the host: pause, suspend, stop and their inverses,
// reboot, and shelve-offload. One table row each: the state-table action, its os-instance-actions name, the event
// the host records and the task kind.
import type { InstanceRow } from '../../../store/compute-tables.js';
import type { AuthContext } from '../common.js';
import { type ActionEnv, type Queued, queueAction } from './env.js';

/** The actions that are one queued task and nothing else. */
export type PlainAction = 'pause' | 'unpause' | 'suspend' | 'resume' | 'stop' | 'start' | 'shelveOffload';

const PLAIN: Record<PlainAction, Queued> = {
  pause: { action: 'pause', name: 'pause', event: 'compute_pause_instance', kind: 'pause' },
  unpause: { action: 'unpause', name: 'unpause', event: 'compute_unpause_instance', kind: 'unpause' },
  suspend: { action: 'suspend', name: 'suspend', event: 'compute_suspend_instance', kind: 'suspend' },
  resume: { action: 'resume', name: 'resume', event: 'compute_resume_instance', kind: 'resume' },
  stop: { action: 'stop', name: 'stop', event: 'compute_stop_instance', kind: 'stop' },
  start: { action: 'start', name: 'start', event: 'compute_start_instance', kind: 'start' },
  shelveOffload: {
    action: 'shelveOffload',
    name: 'shelveOffload',
    event: 'compute_shelve_offload_instance',
    kind: 'shelve_offload',
  },
};

export function plainAction(
  env: ActionEnv,
  action: PlainAction,
  ctx: AuthContext,
  rid: string,
  id: string,
): Promise<InstanceRow> {
  return queueAction(env, ctx, rid, id, PLAIN[action]);
}

export function reboot(env: ActionEnv, ctx: AuthContext, rid: string, id: string, type: 'SOFT' | 'HARD') {
  return queueAction(env, ctx, rid, id, {
    action: type === 'HARD' ? 'reboot_hard' : 'reboot_soft',
    name: 'reboot',
    event: 'compute_reboot_instance',
    kind: 'reboot',
    payload: { type },
  });
}
