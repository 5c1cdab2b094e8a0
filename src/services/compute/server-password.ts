import { PASSWORD_CHUNKS } from '../metadata/model.js';
import { type ComputeDeps, nowIso, parseJson } from './common.js';

/** os-server-password: the password a guest posted through the metadata service, kept in system_metadata. */
export class ServerPasswords {
  constructor(private readonly d: ComputeDeps) {}

  /** Blanks password_0..3 in one transaction, so a guest posting at the same time cannot interleave. */
  async clear(instanceId: string): Promise<void> {
    await this.d.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('compute_instances')
        .select('system_metadata')
        .where('id', '=', instanceId)
        .executeTakeFirst();
      const sys = parseJson<Record<string, string>>(row?.system_metadata, {});
      for (let i = 0; i < PASSWORD_CHUNKS; i++) sys[`password_${i}`] = '';
      await trx
        .updateTable('compute_instances')
        .set({ system_metadata: JSON.stringify(sys), updated_at: nowIso() })
        .where('id', '=', instanceId)
        .execute();
    });
  }
}
