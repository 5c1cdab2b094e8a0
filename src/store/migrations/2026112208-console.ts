import type { Kysely } from 'kysely';

/** Remote console tokens (Nova's console_auth_tokens): only a hash of the token is kept. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('console_auth_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('console_type', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_auth_tokens_instance').on('console_auth_tokens').column('instance_id').execute();
  await db.schema.createIndex('console_auth_tokens_expires').on('console_auth_tokens').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('console_auth_tokens').execute();
}
