import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { APPLICATION_ID } from './migration.js';
import { addUser, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const wrongTarget = "INSERT INTO messages (conv, sender_id, to_user_id, client_msg_id, text, folded, ts) VALUES ('room', 1, 2, 'c1', 'hi', 'hi', 5)";

describe('001-init', () => {
  it('marks a SQLite database as LanChat and ties a message to its conversation', () => {
    const db = sqliteAt(':memory:', 1);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    addUser(db, 'Ali');
    addUser(db, 'Bob');
    expect(() => db.exec(wrongTarget)).toThrow(Database.SqliteError);
    db.exec("INSERT INTO messages (conv, sender_id, to_user_id, client_msg_id, text, folded, ts) VALUES ('dm:1:2', 2, 1, 'c1', 'hi', 'hi', 5)");
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('makes on PostgreSQL what SQLite has at 13, and records 13', async () => {
    const url = await postgresAt(1);
    await onPostgres(url, async (client) => {
      expect((await client.query('SELECT version FROM schema_version')).rows).toEqual([{ version: 13 }]);
      await client.query("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0), ('Bob', 'bob', 'bob', 'x', 0)");
      await expect(client.query(wrongTarget)).rejects.toThrow(/message_target/);
      const tables = await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('message_grams', 'daily_usage', 'files')");
      expect(tables.rows).toEqual([{ n: 2 }]);
    });
  });
});
