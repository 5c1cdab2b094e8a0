// Cinder's QoS specs: named limit sets, associated with volume types (a type has at most one). The consumer says
// who enforces them: `back-end` (a storage array; the file backend has none, so they are only stored), `front-end`
// (the hypervisor: QEMU's I/O throttling of the guest's disk) or `both`. `frontEndLimits` turns a volume's specs into
// the limits the compute host applies when it plugs the volume.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { VolumeQosSpecsRow } from '../../store/volume-tables.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import { fromJson } from '../../util/json.js';
import { uuid } from '../../util/ids.js';
import { now } from './model.js';
import type { IoLimits } from '../../virt/io-limits.js';

export const QOS_CONSUMERS = ['front-end', 'back-end', 'both'] as const;
export type QosConsumer = (typeof QOS_CONSUMERS)[number];

export interface QosSpecs {
  id: string;
  name: string;
  consumer: QosConsumer;
  specs: Record<string, string>;
  createdAt: string;
  updatedAt: string | null;
}

/** The front-end keys Nova's libvirt driver honours (Cinder passes them unchanged); bytes or operations per second. */
export const IO_LIMIT_KEYS = [
  'total_bytes_sec',
  'read_bytes_sec',
  'write_bytes_sec',
  'total_iops_sec',
  'read_iops_sec',
  'write_iops_sec',
  'total_bytes_sec_max',
  'read_bytes_sec_max',
  'write_bytes_sec_max',
  'total_iops_sec_max',
  'read_iops_sec_max',
  'write_iops_sec_max',
  'size_iops_sec',
] as const;
type IoLimitKey = (typeof IO_LIMIT_KEYS)[number] & keyof IoLimits;

/** Keys Cinder multiplies by the volume's size in GiB before handing them to the hypervisor. */
const PER_GB_KEYS = [
  'total_bytes_sec',
  'read_bytes_sec',
  'write_bytes_sec',
  'total_iops_sec',
  'read_iops_sec',
  'write_iops_sec',
] as const;

const isLimitKey = (k: string): k is IoLimitKey => (IO_LIMIT_KEYS as readonly string[]).includes(k);

function qosOf(r: VolumeQosSpecsRow): QosSpecs {
  return {
    id: r.id,
    name: r.name,
    consumer: r.consumer as QosConsumer,
    specs: fromJson(r.specs, {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Cinder's checks (consumer, string lengths) plus the ones QEMU would otherwise refuse at attach time: a limit is a
 * non-negative integer, and a total limit excludes the read/write ones of the same kind.
 */
function validate(specs: Record<string, string>): void {
  for (const [k, v] of Object.entries(specs)) {
    if (k.length < 1 || k.length > 255 || typeof v !== 'string' || v.length > 255)
      throw badRequest(
        `Invalid input received: QoS specs key ${k} or its value is not a string of 1 to 255 characters.`,
      );
    const limit = isLimitKey(k) || k.endsWith('_per_gb') || k.endsWith('_per_gb_min');
    if (limit && !/^\d+$/.test(v.trim()))
      throw badRequest(`Invalid input received: QoS specs key ${k} must be a non-negative integer, not "${v}".`);
  }
  if ('consumer' in specs && !(QOS_CONSUMERS as readonly string[]).includes(specs.consumer!))
    throw badRequest(
      `Invalid input received: Invalid QoS specs: Consumer ${specs.consumer} is not one of ` +
        `${QOS_CONSUMERS.join(', ')}.`,
    );
  for (const kind of ['bytes', 'iops']) {
    for (const suffix of ['', '_max']) {
      const has = (rw: string) => {
        const v = specs[`${rw}_${kind}_sec${suffix}`] ?? specs[`${rw}_${kind}_sec${suffix}_per_gb`];
        return v !== undefined && Number(v) > 0;
      };
      if (has('total') && (has('read') || has('write')))
        throw badRequest(
          `Invalid input received: Invalid QoS specs: total_${kind}_sec${suffix} cannot be combined with ` +
            `read_${kind}_sec${suffix} or write_${kind}_sec${suffix}.`,
        );
    }
  }
}

export class QosSpecsService {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<QosSpecs[]> {
    const rows = await this.db.selectFrom('volume_qos_specs').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(qosOf);
  }

  async get(id: string): Promise<QosSpecs> {
    const r = await this.db.selectFrom('volume_qos_specs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`QoS Specs ${id} could not be found.`);
    return qosOf(r);
  }

  /** `specs` as the API body gives them: the limits and optionally `consumer` (default back-end). */
  async create(name: string, specs: Record<string, string>): Promise<QosSpecs> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 255)
      throw badRequest('Invalid input received: name has to be a string of 1 to 255 characters, not only spaces.');
    validate(specs);
    const { consumer = 'back-end', ...rest } = specs;
    const id = uuid();
    try {
      await this.db
        .insertInto('volume_qos_specs')
        .values({
          id,
          name: trimmed,
          consumer,
          specs: JSON.stringify(rest),
          created_at: now(),
          updated_at: null,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`QoS Specs ${trimmed} already exists.`);
      throw e;
    }
    return this.get(id);
  }

  /** Sets keys (and `consumer`); answers what was set, as Cinder does. */
  async setKeys(id: string, specs: Record<string, string>): Promise<Record<string, string>> {
    const q = await this.get(id);
    validate(specs);
    const { consumer, ...rest } = specs;
    const merged = { ...q.specs, ...rest };
    validate(merged);
    await this.db
      .updateTable('volume_qos_specs')
      .set({ specs: JSON.stringify(merged), ...(consumer ? { consumer } : {}), updated_at: now() })
      .where('id', '=', id)
      .execute();
    return specs;
  }

  async deleteKeys(id: string, keys: string[]): Promise<void> {
    const q = await this.get(id);
    const missing = keys.find((k) => !(k in q.specs));
    if (missing !== undefined) throw badRequest(`QoS spec ${id} has no key ${missing}.`);
    const rest = Object.fromEntries(Object.entries(q.specs).filter(([k]) => !keys.includes(k)));
    await this.db
      .updateTable('volume_qos_specs')
      .set({ specs: JSON.stringify(rest), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  /** Without `force`, specs still associated with a type are refused (400, Cinder's QoSSpecsInUse). */
  async delete(id: string, force: boolean): Promise<void> {
    await this.get(id);
    const used = await this.associations(id);
    if (used.length && !force) throw badRequest(`QoS Specs ${id} is still associated with entities.`);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('volume_types').set({ qos_specs_id: null }).where('qos_specs_id', '=', id).execute();
      await trx.deleteFrom('volume_qos_specs').where('id', '=', id).execute();
    });
  }

  async associations(id: string): Promise<{ id: string; name: string }[]> {
    await this.get(id);
    return this.db
      .selectFrom('volume_types')
      .select(['id', 'name'])
      .where('qos_specs_id', '=', id)
      .orderBy('name')
      .execute();
  }

  private async type(typeId: string | undefined): Promise<{ id: string; qos_specs_id: string | null }> {
    if (!typeId) throw badRequest('Volume Type id must not be None.');
    const t = await this.db
      .selectFrom('volume_types')
      .select(['id', 'qos_specs_id'])
      .where('id', '=', typeId)
      .executeTakeFirst();
    if (!t) throw notFound(`Volume type ${typeId} could not be found.`);
    return t;
  }

  /** A type has one QoS specs: associating it with a second one is a 400 (disassociate first), as in Cinder. */
  async associate(id: string, typeId: string | undefined): Promise<void> {
    await this.get(id);
    const t = await this.type(typeId);
    if (t.qos_specs_id && t.qos_specs_id !== id)
      throw badRequest(
        `Invalid volume type: Type ${t.id} is already associated with another qos specs: ${t.qos_specs_id}`,
      );
    await this.db
      .updateTable('volume_types')
      .set({ qos_specs_id: id, updated_at: now() })
      .where('id', '=', t.id)
      .execute();
  }

  async disassociate(id: string, typeId: string | undefined): Promise<void> {
    await this.get(id);
    const t = await this.type(typeId);
    await this.db
      .updateTable('volume_types')
      .set({ qos_specs_id: null, updated_at: now() })
      .where('id', '=', t.id)
      .where('qos_specs_id', '=', id)
      .execute();
  }

  async disassociateAll(id: string): Promise<void> {
    await this.get(id);
    await this.db
      .updateTable('volume_types')
      .set({ qos_specs_id: null, updated_at: now() })
      .where('qos_specs_id', '=', id)
      .execute();
  }

  /**
   * The limits the hypervisor applies to a volume of this type and size: the type's specs when their consumer is
   * front-end or both (null otherwise). `<key>_per_gb` is multiplied by the size (at least `<key>_per_gb_min`), as
   * Cinder does for the connection it hands Nova.
   */
  async frontEndLimits(volumeTypeId: string, sizeGb: number): Promise<IoLimits | null> {
    const r = await this.db
      .selectFrom('volume_types')
      .innerJoin('volume_qos_specs', 'volume_qos_specs.id', 'volume_types.qos_specs_id')
      .select(['volume_qos_specs.consumer', 'volume_qos_specs.specs'])
      .where('volume_types.id', '=', volumeTypeId)
      .executeTakeFirst();
    if (!r || r.consumer === 'back-end') return null;
    const specs: Record<string, string> = fromJson(r.specs, {});
    const out: IoLimits = {};
    for (const [k, v] of Object.entries(specs)) if (isLimitKey(k) && Number(v) > 0) out[k] = Number(v);
    for (const k of PER_GB_KEYS) {
      const per = Number(specs[`${k}_per_gb`] ?? 0);
      if (per > 0) out[k] = Math.max(per * sizeGb, Number(specs[`${k}_per_gb_min`] ?? 0));
    }
    return Object.keys(out).length ? out : null;
  }
}
