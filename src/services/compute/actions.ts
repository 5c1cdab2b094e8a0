// ServerActions: the front of the server actions (POST /servers/{id}/action and friends) the API calls. Each family
// lives in actions/: the shared queue step (env.ts), power (power.ts), rebuild and rescue (rebuild.ts), image,
// backup and shelve (snapshot.ts), resize and migrations (migrate.ts), admin and delete (admin.ts), host reads
// (console.ts) and interfaces (interfaces.ts).
import type { InstanceRow } from '../../store/compute-tables.js';
import type { InstanceStats } from '../../virt/index.js';
import * as admin from './actions/admin.js';
import * as hostReads from './actions/console.js';
import type { ActionDeps, ActionEnv } from './actions/env.js';
import * as nics from './actions/interfaces.js';
import * as moves from './actions/migrate.js';
import { plainAction, reboot } from './actions/power.js';
import { type RebuildSpec, rebuild, rescue, unrescue } from './actions/rebuild.js';
import * as images from './actions/snapshot.js';
import type { AuthContext, ComputeDeps } from './common.js';
import type { DiskConfig } from './disk-config.js';
import type { ComputePort } from './peer-services.js';

export type { ActionDeps, HostCalls } from './actions/env.js';
export type { RebuildSpec } from './actions/rebuild.js';

/** The server actions: state checks, then a task for the host. */
export class ServerActions {
  private readonly env: ActionEnv;

  constructor(d: ComputeDeps, x: ActionDeps) {
    this.env = { d, x };
  }

  pause(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'pause', ctx, rid, id);
  }
  unpause(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'unpause', ctx, rid, id);
  }
  suspend(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'suspend', ctx, rid, id);
  }
  resume(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'resume', ctx, rid, id);
  }
  stop(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'stop', ctx, rid, id);
  }
  start(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'start', ctx, rid, id);
  }
  reboot(ctx: AuthContext, rid: string, id: string, type: 'SOFT' | 'HARD') {
    return reboot(this.env, ctx, rid, id, type);
  }
  rescue(ctx: AuthContext, rid: string, id: string, rescueImage: string | null) {
    return rescue(this.env, ctx, rid, id, rescueImage);
  }
  unrescue(ctx: AuthContext, rid: string, id: string) {
    return unrescue(this.env, ctx, rid, id);
  }

  /** Rebuild: optionally a new image, name, metadata, key, user data, description. */
  rebuild(ctx: AuthContext, rid: string, id: string, spec: RebuildSpec): Promise<InstanceRow> {
    return rebuild(this.env, ctx, rid, id, spec);
  }

  /** createImage / createBackup: a snapshot image (its data from the host's task); returns the image id. */
  createImage(
    ctx: AuthContext,
    rid: string,
    id: string,
    name: string,
    metadata: Record<string, string>,
    action: 'createImage' | 'createBackup' = 'createImage',
    backup?: { type: string; rotation: number },
  ): Promise<string> {
    return images.createImage(this.env, ctx, rid, id, name, metadata, action, backup);
  }

  shelve(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return images.shelve(this.env, ctx, rid, id);
  }
  shelveOffload(ctx: AuthContext, rid: string, id: string) {
    return plainAction(this.env, 'shelveOffload', ctx, rid, id);
  }
  /** Unshelve: the scheduler claims a host again (optionally in another AZ). */
  unshelve(ctx: AuthContext, rid: string, id: string, az: string | null) {
    return images.unshelve(this.env, ctx, rid, id, az);
  }

  /** Resize (new flavor) or cold migrate (same flavor, another host). */
  resize(
    ctx: AuthContext,
    rid: string,
    id: string,
    flavorRef: string | null,
    opts: { host?: string | null; diskConfig?: DiskConfig } = {},
  ): Promise<void> {
    return moves.resize(this.env, ctx, rid, id, flavorRef, opts);
  }
  confirmResize(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return moves.confirmResize(this.env, ctx, rid, id);
  }
  revertResize(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return moves.revertResize(this.env, ctx, rid, id);
  }
  liveMigrate(ctx: AuthContext, rid: string, id: string, host: string | null): Promise<void> {
    return moves.liveMigrate(this.env, ctx, rid, id, host);
  }

  resetState(ctx: AuthContext, rid: string, id: string, state: 'active' | 'error'): Promise<void> {
    return admin.resetState(this.env, ctx, rid, id, state);
  }
  lock(ctx: AuthContext, rid: string, id: string, reason: string | null): Promise<void> {
    return admin.lock(this.env, ctx, rid, id, reason);
  }
  unlock(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return admin.unlock(this.env, ctx, rid, id);
  }
  /** Delete: the host destroys the guest and frees its ports; without a host it is immediate. */
  delete(ctx: AuthContext, rid: string, id: string, force = false): Promise<void> {
    return admin.deleteServer(this.env, ctx, rid, id, force);
  }
  changePassword(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return admin.recordOnly(this.env, ctx, rid, id, 'changePassword');
  }
  triggerCrashDump(ctx: AuthContext, rid: string, id: string): Promise<void> {
    return admin.recordOnly(this.env, ctx, rid, id, 'trigger_crash_dump');
  }

  /** Console output, last `length` lines. */
  consoleOutput(ctx: AuthContext, id: string, length: number | null): Promise<string> {
    return hostReads.consoleOutput(this.env, ctx, id, length);
  }
  /** The driver's facts about the guest, read live from its host (diagnostics only). */
  guestDetails(inst: InstanceRow): Promise<Record<string, string>> {
    return hostReads.guestDetails(this.env, inst);
  }
  /** The guest's counters, read live from its host (diagnostics); null when none can be had, never an error. */
  guestStats(inst: InstanceRow): Promise<InstanceStats | null> {
    return hostReads.guestStats(this.env, inst);
  }
  /** Checks a console request is possible (instance running on a host). */
  checkConsole(ctx: AuthContext, id: string): Promise<InstanceRow> {
    return hostReads.checkConsole(this.env, ctx, id);
  }

  attachInterface(
    ctx: AuthContext,
    rid: string,
    id: string,
    req: { networkId?: string; portId?: string; fixedIp?: string },
  ): Promise<ComputePort> {
    return nics.attachInterface(this.env, ctx, rid, id, req);
  }
  detachInterface(ctx: AuthContext, rid: string, id: string, portId: string): Promise<void> {
    return nics.detachInterface(this.env, ctx, rid, id, portId);
  }
}
