// ServerService: one instance's reads and writes (get, update, lock check, delete bookkeeping) and the front the
// API and the actions use for the rest, kept in their own modules: create (server-create.ts, with its checks in
// server-checks.ts and server-placement.ts), list filters (server-list.ts), metadata and tags (server-metadata.ts).
import { type CloudError, conflict, notFound } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { type AuthContext, type ComputeDeps, type Db, isAdmin, nowIso } from './common.js';
import { type DiskConfig, withDiskConfig } from './disk-config.js';
import { extras, type FlavorSnapshot } from './model.js';
import type { ComputeImage } from './peer-services.js';
import { checkFit, checkMetadataLimits, checkUserData } from './server-checks.js';
import { type CreateResult, createServers, type ServerCreateSpec, type ServerDeps } from './server-create.js';
import { listServers, type ServerListQuery } from './server-list.js';
import * as metadata from './server-metadata.js';

export { findImage, imageIdFromRef } from './server-checks.js';
export type { CreateResult, ServerCreateSpec, ServerDeps } from './server-create.js';
export type { ServerListQuery } from './server-list.js';

/** Servers: create, read, update, delete, metadata and tags. Actions live in ServerActions. */
export class ServerService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly x: ServerDeps,
  ) {}

  /** Nova's image/flavor fit checks. */
  checkFit(image: ComputeImage, flavor: FlavorSnapshot): void {
    checkFit(image, flavor);
  }

  /** Validates user data: base64, at most 65535 bytes as sent. */
  static checkUserData(data: string): void {
    checkUserData(data);
  }

  /** Checks metadata against the metadata_items quota and Nova's key/value limits. */
  async checkMetadata(projectId: string, md: Record<string, string>): Promise<void> {
    checkMetadataLimits(await this.x.quotas.limitFor(projectId, 'metadata_items'), md);
  }

  /** Creates min..max instances: checks everything first, then one transaction writes instances, quota and claims. */
  create(ctx: AuthContext, requestId: string, spec: ServerCreateSpec): Promise<CreateResult> {
    return createServers(this.d, this.x, ctx, requestId, spec);
  }

  /** An instance the caller may see (admins see all); deleted ones are not found. */
  async get(ctx: AuthContext, id: string, opts: { includeDeleted?: boolean } = {}): Promise<InstanceRow> {
    let q = this.d.db.selectFrom('compute_instances').selectAll().where('id', '=', id);
    if (!opts.includeDeleted) q = q.where('deleted', '=', 0);
    const r = await q.executeTakeFirst();
    if (!r || (!isAdmin(ctx) && r.project_id !== ctx.projectId)) throw ServerService.NotFound(id);
    return r;
  }

  async getRaw(trx: Db, id: string): Promise<InstanceRow | undefined> {
    return trx
      .selectFrom('compute_instances')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  /** Lists with Nova's filters, sorting and marker pagination. */
  list(ctx: AuthContext, q: ServerListQuery): Promise<InstanceRow[]> {
    return listServers(this.d, ctx, q);
  }

  /** Rename, description, hostname, access IPs, disk config. */
  async update(
    ctx: AuthContext,
    id: string,
    change: {
      name?: string;
      description?: string | null;
      hostname?: string;
      accessIPv4?: string | null;
      accessIPv6?: string | null;
      diskConfig?: DiskConfig;
    },
  ): Promise<InstanceRow> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    const set: Partial<InstanceRow> = { updated_at: nowIso() };
    if (change.name !== undefined) set.name = change.name;
    if (change.description !== undefined) set.description = change.description;
    if (change.hostname !== undefined) set.hostname = change.hostname;
    if (change.accessIPv4 !== undefined) set.access_ip_v4 = change.accessIPv4;
    if (change.accessIPv6 !== undefined) set.access_ip_v6 = change.accessIPv6;
    if (change.diskConfig !== undefined)
      set.system_metadata = JSON.stringify(withDiskConfig(extras(inst).systemMetadata, change.diskConfig));
    await this.d.db.updateTable('compute_instances').set(set).where('id', '=', id).execute();
    return this.get(ctx, id);
  }

  /** A locked server refuses changes from everyone but admin (Nova lets even the owner who locked it act only after
   * unlocking). */
  checkLocked(ctx: AuthContext, inst: InstanceRow): void {
    if (!inst.locked || isAdmin(ctx)) return;
    throw conflict(`Instance ${inst.id} is locked`, { code: 'InstanceIsLocked' });
  }

  /** Records the security group names on the instance's ports (after addSecurityGroup/removeSecurityGroup). */
  async setSecurityGroupNames(id: string, names: string[]): Promise<void> {
    await this.d.db
      .updateTable('compute_instances')
      .set({ security_groups: JSON.stringify(names), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  /** The instance the caller may change: visible to it and not locked against it. */
  private async changeable(ctx: AuthContext, id: string): Promise<InstanceRow> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    return inst;
  }

  async setMetadata(
    ctx: AuthContext,
    id: string,
    md: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const inst = await this.changeable(ctx, id);
    return metadata.setMetadata(this.d, inst, md, replace, (next) => this.checkMetadata(inst.project_id, next));
  }

  async deleteMetadataKey(ctx: AuthContext, id: string, key: string): Promise<void> {
    await metadata.deleteMetadataKey(this.d, await this.changeable(ctx, id), key);
  }

  static checkTag(tag: string): void {
    metadata.checkTag(tag);
  }

  async setTags(ctx: AuthContext, id: string, tags: string[]): Promise<string[]> {
    return metadata.setTags(this.d, await this.changeable(ctx, id), tags);
  }

  async addTag(ctx: AuthContext, id: string, tag: string): Promise<boolean> {
    metadata.checkTag(tag);
    return metadata.addTag(this.d, await this.changeable(ctx, id), tag);
  }

  async deleteTag(ctx: AuthContext, id: string, tag: string | null): Promise<void> {
    await metadata.deleteTag(this.d, await this.changeable(ctx, id), tag);
  }

  /** Marks an instance deleted and gives back quota, claims and group membership (inside the caller's transaction). */
  async finalizeDelete(trx: Db, inst: InstanceRow): Promise<void> {
    const now = nowIso();
    await trx
      .updateTable('compute_instances')
      .set({
        deleted: 1,
        deleted_at: now,
        terminated_at: now,
        updated_at: now,
        vm_state: 'deleted',
        task_state: null,
        power_state: 0,
      })
      .where('id', '=', inst.id)
      .where('deleted', '=', 0)
      .execute();
    await this.x.quotas.add(trx, inst.project_id, { instances: -1, cores: -inst.vcpus, ram: -inst.memory_mb });
    // A shelved-offloaded server holds no claim on its last host; every other one that has a host does (an error
    // one too: its claim was taken before the spawn failed).
    if (inst.host && inst.vm_state !== 'shelved_offloaded') {
      await this.x.scheduler.release(trx, inst.host, {
        vcpus: inst.vcpus,
        memoryMb: inst.memory_mb,
        diskGb: inst.root_gb,
      });
    }
    await trx.deleteFrom('compute_server_group_members').where('instance_id', '=', inst.id).execute();
  }

  static NotFound(id: string): CloudError {
    return notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
  }
}
