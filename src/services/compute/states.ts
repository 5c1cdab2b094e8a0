import { conflict } from '../../errors.js';

/** Nova's vm_state values. */
export type VmState =
  | 'building'
  | 'active'
  | 'paused'
  | 'suspended'
  | 'stopped'
  | 'rescued'
  | 'resized'
  | 'soft-delete'
  | 'deleted'
  | 'error'
  | 'shelved'
  | 'shelved_offloaded';

/** The task_state values this cloud sets while an action is in flight. */
export type TaskState =
  | 'scheduling'
  | 'networking'
  | 'spawning'
  | 'pausing'
  | 'unpausing'
  | 'suspending'
  | 'resuming'
  | 'powering-off'
  | 'powering-on'
  | 'rebooting'
  | 'rebooting_hard'
  | 'rebuilding'
  | 'resize_prep'
  | 'resize_migrating'
  | 'resize_finish'
  | 'resize_reverting'
  | 'resize_confirming'
  | 'shelving'
  | 'shelving_offloading'
  | 'unshelving'
  | 'image_snapshot'
  | 'rescuing'
  | 'unrescuing'
  | 'migrating'
  | 'deleting'
  | 'updating_password';

const ANY_VM: VmState[] = [
  'building',
  'active',
  'paused',
  'suspended',
  'stopped',
  'rescued',
  'resized',
  'soft-delete',
  'error',
  'shelved',
  'shelved_offloaded',
];
const IDLE: (TaskState | null)[] = [null];

/** One row of the table: the states an action may start from, and the task_state it sets. */
export interface ActionRule {
  vm: VmState[];
  /** Allowed task states; `'any'` skips the check. */
  task: (TaskState | null)[] | 'any';
  /** task_state while the action runs (null for synchronous actions). */
  sets: TaskState | null;
}

/**
 * THE state machine: which API action is allowed in which vm_state × task_state, as nova/compute/api.py's
 * check_instance_state decorators say. Everything else answers 409 with Nova's message.
 */
export const ACTIONS = {
  pause: { vm: ['active'], task: IDLE, sets: 'pausing' },
  unpause: { vm: ['paused'], task: IDLE, sets: 'unpausing' },
  suspend: { vm: ['active'], task: IDLE, sets: 'suspending' },
  resume: { vm: ['suspended'], task: IDLE, sets: 'resuming' },
  stop: { vm: ['active', 'error'], task: IDLE, sets: 'powering-off' },
  start: { vm: ['stopped'], task: IDLE, sets: 'powering-on' },
  reboot_soft: { vm: ['active'], task: IDLE, sets: 'rebooting' },
  reboot_hard: {
    vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
    task: [null, 'rebooting', 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
    sets: 'rebooting_hard',
  },
  rebuild: { vm: ['active', 'stopped', 'error'], task: IDLE, sets: 'rebuilding' },
  resize: { vm: ['active', 'stopped'], task: IDLE, sets: 'resize_prep' },
  confirmResize: { vm: ['resized'], task: IDLE, sets: null },
  revertResize: { vm: ['resized'], task: IDLE, sets: 'resize_reverting' },
  migrate: { vm: ['active', 'stopped'], task: IDLE, sets: 'resize_prep' },
  'os-migrateLive': { vm: ['active', 'paused'], task: IDLE, sets: 'migrating' },
  shelve: { vm: ['active', 'stopped', 'paused', 'suspended'], task: IDLE, sets: 'shelving' },
  shelveOffload: { vm: ['shelved'], task: IDLE, sets: 'shelving_offloading' },
  unshelve: { vm: ['shelved', 'shelved_offloaded'], task: IDLE, sets: 'unshelving' },
  createImage: { vm: ['active', 'stopped', 'paused', 'suspended'], task: IDLE, sets: 'image_snapshot' },
  createBackup: { vm: ['active', 'stopped', 'paused', 'suspended'], task: IDLE, sets: 'image_snapshot' },
  rescue: { vm: ['active', 'stopped', 'error'], task: IDLE, sets: 'rescuing' },
  unrescue: { vm: ['rescued'], task: IDLE, sets: 'unrescuing' },
  changePassword: { vm: ['active'], task: IDLE, sets: null },
  trigger_crash_dump: { vm: ['active', 'paused', 'rescued', 'resized', 'error'], task: IDLE, sets: null },
  attach_interface: { vm: ['active', 'paused', 'stopped'], task: IDLE, sets: null },
  detach_interface: { vm: ['active', 'paused', 'stopped'], task: IDLE, sets: null },
  attach_volume: { vm: ['active', 'paused', 'stopped', 'resized', 'shelved_offloaded'], task: IDLE, sets: null },
  detach_volume: { vm: ['active', 'paused', 'stopped', 'resized', 'shelved_offloaded'], task: IDLE, sets: null },
  get_console: { vm: ['active', 'paused', 'rescued', 'resized', 'suspended'], task: 'any', sets: null },
  forceDelete: { vm: ['soft-delete'], task: 'any', sets: 'deleting' },
  restore: { vm: ['soft-delete'], task: 'any', sets: null },
  delete: { vm: ANY_VM, task: 'any', sets: 'deleting' },
  update: { vm: ANY_VM, task: 'any', sets: null },
  lock: { vm: ANY_VM, task: 'any', sets: null },
  unlock: { vm: ANY_VM, task: 'any', sets: null },
  resetState: { vm: ANY_VM, task: 'any', sets: null },
} satisfies Record<string, ActionRule>;

export type ServerAction = keyof typeof ACTIONS;

/** Names Nova uses in its conflict messages for our action keys. */
const ACTION_NAMES: Partial<Record<ServerAction, string>> = {
  reboot_soft: 'reboot',
  reboot_hard: 'reboot',
  'os-migrateLive': 'os-migrateLive',
  stop: 'stop',
  start: 'start',
};

/** Throws Nova's 409 when `action` is not allowed in the instance's current states. */
export function checkState(
  action: ServerAction,
  inst: { id: string; vm_state: string; task_state: string | null },
): ActionRule {
  const rule: ActionRule = ACTIONS[action];
  const name = ACTION_NAMES[action] ?? action;
  if (!rule.vm.includes(inst.vm_state as VmState)) {
    throw conflict(`Cannot '${name}' instance ${inst.id} while it is in vm_state ${inst.vm_state}`, {
      code: 'InstanceInvalidState',
    });
  }
  if (rule.task !== 'any' && !rule.task.includes(inst.task_state as TaskState | null)) {
    throw conflict(`Cannot '${name}' instance ${inst.id} while it is in task_state ${inst.task_state ?? 'None'}`, {
      code: 'InstanceInvalidState',
    });
  }
  return rule;
}

/** True when the action is allowed (no throw). */
export function canDo(action: ServerAction, inst: { vm_state: string; task_state: string | null }): boolean {
  const rule: ActionRule = ACTIONS[action];
  return (
    rule.vm.includes(inst.vm_state as VmState) &&
    (rule.task === 'any' || rule.task.includes(inst.task_state as TaskState | null))
  );
}

/** vm_state → task_state → API status, as nova/api/openstack/common.py maps them. */
const STATUS: Record<string, Record<string, string>> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT',
    reboot_pending: 'REBOOT',
    reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT',
    reboot_pending_hard: 'HARD_REBOOT',
    reboot_started_hard: 'HARD_REBOOT',
    updating_password: 'PASSWORD',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
  },
  building: { default: 'BUILD' },
  stopped: {
    default: 'SHUTOFF',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
  },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED', migrating: 'MIGRATING' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: {
    default: 'ERROR',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
  },
  deleted: { default: 'DELETED' },
  'soft-delete': { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};

/** The API status of an instance. */
export function statusOf(vmState: string, taskState: string | null): string {
  const m = STATUS[vmState];
  if (!m) return 'UNKNOWN';
  return (taskState && m[taskState]) || m.default!;
}

/** The (vm_state, task_state) pairs a status filter stands for, for `?status=` on lists. */
export function statesForStatus(status: string): { vm: string; task: string | null | undefined }[] {
  const out: { vm: string; task: string | null | undefined }[] = [];
  for (const [vm, m] of Object.entries(STATUS)) {
    for (const [task, st] of Object.entries(m)) {
      if (st.toUpperCase() === status.toUpperCase()) out.push({ vm, task: task === 'default' ? undefined : task });
    }
  }
  return out;
}

/** Statuses in which Nova shows `progress`. */
export const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);
