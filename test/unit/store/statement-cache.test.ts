import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from '../../../src/store/statement-cache.js';

interface Db {
  t: { id: number; name: string };
}

function openCounted(max?: number) {
  const sqlite = new BetterSqlite3(':memory:');
  let prepared = 0;
  const counting = {
    prepare: (s: string) => {
      prepared++;
      return sqlite.prepare(s);
    },
    close: () => sqlite.close(),
  };
  const cache = withStatementCache(counting, max);
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cache }) });
  return { db, cache, prepared: () => prepared };
}

test('statement cache: the same query shape is prepared once, values stay bound per call', async (t) => {
  const { db, prepared } = openCounted();
  t.after(() => db.destroy());
  await sql`create table t (id integer primary key, name text)`.execute(db);
  for (let i = 1; i <= 5; i++)
    await db
      .insertInto('t')
      .values({ id: i, name: `n${i}` })
      .execute();
  const before = prepared();
  for (let i = 1; i <= 5; i++) {
    const row = await db.selectFrom('t').selectAll().where('id', '=', i).executeTakeFirst();
    assert.deepEqual(row, { id: i, name: `n${i}` });
  }
  assert.equal(prepared() - before, 1);
});

test('statement cache: a schema change under a cached statement is seen by its next run', async (t) => {
  const { db } = openCounted();
  t.after(() => db.destroy());
  await sql`create table t (id integer primary key, name text)`.execute(db);
  await db.insertInto('t').values({ id: 1, name: 'a' }).execute();
  const q = () => sql<Record<string, unknown>>`select * from t`.execute(db);
  assert.deepEqual((await q()).rows, [{ id: 1, name: 'a' }]);
  await sql`alter table t add column extra text default 'x'`.execute(db);
  assert.deepEqual((await q()).rows, [{ id: 1, name: 'a', extra: 'x' }]);
});

test('statement cache: a statement being iterated is not handed out again', (t) => {
  // Kysely holds its one SQLite connection for a whole stream, so this is checked on the cache itself.
  const sqlite = new BetterSqlite3(':memory:');
  const cache = withStatementCache(sqlite);
  t.after(() => cache.close());
  sqlite.exec('create table t (id integer primary key); insert into t values (1), (2), (3)');
  const text = 'select id from t order by id';
  const streaming = cache.prepare(text);
  const it = streaming.iterate([]);
  assert.deepEqual(it.next().value, { id: 1 });
  const other = cache.prepare(text);
  assert.notEqual(other, streaming);
  assert.equal(other.all([]).length, 3);
  assert.deepEqual([...it], [{ id: 2 }, { id: 3 }]);
  assert.equal(cache.prepare(text), streaming);
});

test('statement cache: bounded, least recently used dropped first', async (t) => {
  const { db, cache, prepared } = openCounted(2);
  t.after(() => db.destroy());
  await sql`create table t (id integer primary key, name text)`.execute(db);
  const a = () => db.selectFrom('t').select('id').execute();
  const b = () => db.selectFrom('t').select('name').execute();
  const c = () => db.selectFrom('t').selectAll().execute();
  await a();
  await b();
  await a(); // a is now the most recent
  await c(); // drops b
  assert.equal(cache.size, 2);
  const before = prepared();
  await a();
  assert.equal(prepared(), before);
  await b();
  assert.equal(prepared(), before + 1);
});
