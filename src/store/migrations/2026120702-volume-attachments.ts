import type { Kysely } from 'kysely';

/** What Nova keeps about a volume attachment (its block device mapping): the tag, delete-on-termination, boot order. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('volume_attachments').addColumn('tag', 'text').execute();
  await db.schema
    .alterTable('volume_attachments')
    .addColumn('delete_on_termination', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('volume_attachments').addColumn('boot_index', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('volume_attachments').dropColumn('boot_index').execute();
  await db.schema.alterTable('volume_attachments').dropColumn('delete_on_termination').execute();
  await db.schema.alterTable('volume_attachments').dropColumn('tag').execute();
}
