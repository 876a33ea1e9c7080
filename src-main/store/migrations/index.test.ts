import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { openAsyncStore } from '../async-store.js';
import { openPgStore } from '../pg/open.js';
import { postgresMissing } from '../pg/testing.js';
import type { AsyncStore } from '../types.js';
import { LATEST_VERSION, migrations } from './index.js';
import { APPLICATION_ID } from './migration.js';
import { eachTestFolder, fixture, freshPostgres, onPostgres, postgresSchema, sqliteSchema } from './test-migrations.js';

const folder = eachTestFolder();

/** What c974e6d's store held in the fixtures, read through today's store, and a message stored after it. */
async function expectFixtureKept(store: AsyncStore): Promise<void> {
  const texts = async (conv: string): Promise<string[]> => (await store.history(conv as 'room', undefined, 10)).messages.map((m) => m.text);
  expect(await texts('room')).toEqual(['Merhaba Ankara']);
  expect(await texts('group:1')).toEqual(['günaydın']);
  expect((await store.readStates(1)).map((state) => [state.conv, state.upTo])).toEqual([['room', 1], ['dm:1:2', 0], ['group:1', 0]]);
  expect((await store.events(1, 0, 10)).events.map((event) => event.eventId)).toEqual([1, 2, 3, 4, 5, 6]);
  const [sent] = await store.insertMessages([{ conv: 'room', senderId: 2, clientMsgId: 'c4', text: 'four', ts: 20 }]);
  expect(sent).toMatchObject({ message: { id: 7 }, eventId: 7 });
}

describe('the migrations', () => {
  it('are numbered upwards from 1, named after their number, each file listed once, each with SQL and a test', () => {
    migrations.forEach((migration, index) => {
      expect(migration.version).toBeGreaterThan(index === 0 ? 0 : migrations[index - 1]!.version);
      expect(migration.name.startsWith(String(migration.version).padStart(3, '0') + '-')).toBe(true);
      expect(migration.sql ?? migration.sqlite ?? migration.postgres).toBeDefined();
    });
    expect(migrations[0]!.version).toBe(1);
    expect(LATEST_VERSION).toBe(migrations.at(-1)!.version);
    const files = readdirSync(import.meta.dirname).filter((name) => /^\d{3}-.*(?<!\.test)\.ts$/.test(name));
    expect(files.map((name) => name.slice(0, -3))).toEqual(migrations.map((migration) => migration.name));
    for (const { name } of migrations) expect(existsSync(join(import.meta.dirname, `${name}.test.ts`)), `${name}.test.ts`).toBe(true);
  });

  describe('on SQLite', () => {
    it('open a database of c974e6d as it was, keeping its rows, with the schema a new database gets', async () => {
      const old = new Database(join(folder(), 'old.sqlite'));
      old.exec(fixture('sqlite'));
      old.close();
      const store = openAsyncStore(join(folder(), 'old.sqlite'));
      await expectFixtureKept(store);
      await store.close();
      await openAsyncStore(join(folder(), 'new.sqlite')).close();

      const [upgraded, fresh] = ['old', 'new'].map((name) => new Database(join(folder(), `${name}.sqlite`), { readonly: true }));
      expect(sqliteSchema(upgraded!)).toEqual(sqliteSchema(fresh!));
      expect(sqliteSchema(fresh!)).toMatchObject({ version: LATEST_VERSION, applicationId: APPLICATION_ID });
      upgraded!.close();
      fresh!.close();
    });
  });

  describe.skipIf(postgresMissing !== undefined)('on PostgreSQL', () => {
    it('open a database of c974e6d as it was, keeping its rows, with the schema a new database gets', async () => {
      const [old, fresh] = [await freshPostgres(), await freshPostgres()];
      await onPostgres(old, (client) => client.query(fixture('postgres')));
      const store = await openPgStore(old);
      await expectFixtureKept(store);
      await store.close();
      await (await openPgStore(fresh)).close();

      expect(await postgresSchema(old)).toEqual(await postgresSchema(fresh));
      expect(await postgresSchema(fresh)).toMatchObject({ version: [{ version: LATEST_VERSION }] });
    });
  });
});
