// Reads from the server's host: console output, the driver's guest facts, and the check before a remote console.
import { conflict } from '../../../errors.js';
import type { InstanceRow } from '../../../store/compute-tables.js';
import type { InstanceStats } from '../../../virt/index.js';
import type { AuthContext } from '../common.js';
import { checkState } from '../states.js';
import type { ActionEnv } from './env.js';

/** Console output, last `length` lines. */
export async function consoleOutput(
  { x }: ActionEnv,
  ctx: AuthContext,
  id: string,
  length: number | null,
): Promise<string> {
  const inst = await x.servers.get(ctx, id);
  if (!inst.host || (['building', 'shelved_offloaded', 'error'].includes(inst.vm_state) && !inst.launched_at)) {
    throw conflict(`Instance ${id} is not ready.`, { code: 'InstanceNotReady' });
  }
  const calls = x.calls();
  if (!calls) throw conflict(`Instance ${id} is not ready.`, { code: 'InstanceNotReady' });
  const out = await calls.consoleOutput(inst.host, id).catch(() => '');
  if (length === null) return out;
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(Math.max(0, lines.length - length)).join('\n');
}

/**
 * The driver's facts about the guest, read live from its host (Gureum's own; shown in the diagnostics). They never
 * go into the server's metadata: that belongs to the user, and Nova returns it exactly as set.
 */
export async function guestDetails({ x }: ActionEnv, inst: InstanceRow): Promise<Record<string, string>> {
  const calls = x.calls();
  if (!calls || !inst.host) return {};
  // Details are extra facts for diagnostics: a host that cannot answer gives none, not an error.
  return (await calls.details(inst.host, inst.id).catch(() => null)) ?? {};
}

/** The guest's counters, read live from its host (diagnostics); null when none can be had, never an error. */
export async function guestStats({ x }: ActionEnv, inst: InstanceRow): Promise<InstanceStats | null> {
  const calls = x.calls();
  if (!calls || !inst.host) return null;
  return calls.stats(inst.host, inst.id).catch(() => null);
}

/** Checks a console request is possible (instance running on a host). */
export async function checkConsole({ x }: ActionEnv, ctx: AuthContext, id: string): Promise<InstanceRow> {
  const inst = await x.servers.get(ctx, id);
  checkState('get_console', inst);
  if (!inst.host) throw conflict(`Instance ${id} is not ready.`, { code: 'InstanceNotReady' });
  return inst;
}
