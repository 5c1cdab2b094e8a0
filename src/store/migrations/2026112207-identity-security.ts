import type { Kysely } from 'kysely';

/** Keystone's security_compliance: failed-login counters for lockout, and password history. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('users').addColumn('failed_auth_at', 'text').execute();
  await db.schema
    .createTable('password_history')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('password_history_user')
    .on('password_history')
    .columns(['user_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('password_history').execute();
  await db.schema.alterTable('users').dropColumn('failed_auth_at').execute();
  await db.schema.alterTable('users').dropColumn('failed_auth_count').execute();
}
