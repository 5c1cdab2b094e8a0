// Which server actions to offer: the same state table the server enforces (src/services/compute/states.ts), so
// the dashboard shows exactly the buttons that will not answer 409.
import { ACTIONS, type ServerAction } from '../../../src/services/compute/states';
import type { Server } from './types';

/** The actions the dashboard offers, in menu order, with the body Nova expects. */
export const SERVER_ACTIONS = [
  { key: 'start', rule: 'start', body: { 'os-start': null } },
  { key: 'stop', rule: 'stop', body: { 'os-stop': null } },
  { key: 'pause', rule: 'pause', body: { pause: null } },
  { key: 'unpause', rule: 'unpause', body: { unpause: null } },
  { key: 'suspend', rule: 'suspend', body: { suspend: null } },
  { key: 'resume', rule: 'resume', body: { resume: null } },
  { key: 'reboot', rule: 'reboot_soft', body: { reboot: { type: 'SOFT' } } },
  { key: 'hardReboot', rule: 'reboot_hard', body: { reboot: { type: 'HARD' } } },
  { key: 'shelve', rule: 'shelve', body: { shelve: null } },
  { key: 'unshelve', rule: 'unshelve', body: { unshelve: null } },
  { key: 'lock', rule: 'lock', body: { lock: null } },
  { key: 'unlock', rule: 'unlock', body: { unlock: null } },
  { key: 'delete', rule: 'delete', body: null },
] as const satisfies readonly { key: string; rule: ServerAction; body: unknown }[];

export type ServerActionKey = (typeof SERVER_ACTIONS)[number]['key'];

/** The actions allowed now for this server (lock/unlock also follow its lock flag). */
export function allowedActions(server: Server): (typeof SERVER_ACTIONS)[number][] {
  const vm = server['OS-EXT-STS:vm_state'];
  const task = server['OS-EXT-STS:task_state'] ?? null;
  return SERVER_ACTIONS.filter((a) => {
    const rule = ACTIONS[a.rule];
    if (!(rule.vm as readonly string[]).includes(vm)) return false;
    if (rule.task !== 'any' && !(rule.task as readonly (string | null)[]).includes(task)) return false;
    if (a.key === 'lock') return !server.locked;
    if (a.key === 'unlock') return !!server.locked;
    return true;
  });
}

/** Whether the state table allows one rule now (for actions outside the menu, such as createImage). */
export function allows(server: Server, rule: ServerAction): boolean {
  const r = ACTIONS[rule];
  const task = server['OS-EXT-STS:task_state'] ?? null;
  return (r.vm as readonly string[]).includes(server['OS-EXT-STS:vm_state']) && (r.task === 'any' || (r.task as readonly (string | null)[]).includes(task));
}

/** A server still changing (the list polls faster while any is). */
export function isTransitional(server: Server): boolean {
  return !!server['OS-EXT-STS:task_state'] || ['BUILD', 'REBOOT', 'HARD_REBOOT', 'RESIZE', 'MIGRATING'].includes(server.status);
}
