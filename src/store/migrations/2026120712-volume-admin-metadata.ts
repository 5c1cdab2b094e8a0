import type { Kysely } from 'kysely';

/**
 * Cinder's volume admin metadata: keys only admins and the service set (`readonly` once os-update_readonly_flag ran,
 * `attached_mode`). The visible ones are shown inside the volume's metadata, as Cinder's API does.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('volume_volumes')
    .addColumn('admin_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('volume_volumes').dropColumn('admin_metadata').execute();
}
