import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

describe('019-file-chunks', () => {
  it('leaves SQLite as it was (its files are in a folder), the version recorded', () => {
    const db = sqliteAt(':memory:', 18);
    migrate(db, 19);
    expect(db.pragma('user_version', { simple: true })).toBe(19);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'file_chunks'").all()).toEqual([]);
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('on PostgreSQL keeps one chunk per key and offset, its bytes out of line and uncompressed', async () => {
    const url = await postgresAt(18);
    await onPostgres(url, async (client) => {
      await migratePostgres(client, 'the test database', 19);
      const chunk = "INSERT INTO file_chunks (key, pos, data) VALUES ('upload:u1', 0, '\\x0102'::bytea)";
      await client.query(chunk);
      await expect(client.query(chunk)).rejects.toThrow(/unique/);
      await client.query("INSERT INTO file_chunks (key, pos, data) VALUES ('upload:u1', 2, '\\x03'::bytea)");
      const { rows } = await client.query("SELECT string_agg(data, ''::bytea ORDER BY pos) AS bytes FROM file_chunks WHERE key = 'upload:u1'");
      expect(rows[0].bytes).toEqual(Buffer.from([1, 2, 3]));
      const storage = await client.query("SELECT attstorage FROM pg_attribute WHERE attrelid = 'file_chunks'::regclass AND attname = 'data'");
      expect(storage.rows).toEqual([{ attstorage: 'e' }]);
    });
  });
});
