import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { addUser, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

/** Bytes as each engine writes them: SQLite's STRICT tables take no text for a BLOB. */
const SQLITE_BYTES = "X'01'";
const POSTGRES_BYTES = "'\\x01'::bytea";
const addDevice = (bytes: string): string => `INSERT INTO mls_devices (user_id, device_id, signature_key, created_at) VALUES (1, 'd1', ${bytes}, 5);
  INSERT INTO mls_key_packages (user_id, device_id, key_package) VALUES (1, 'd1', ${bytes}), (1, 'd1', ${bytes})`;
const frame = (bytes: string): string =>
  `INSERT INTO mls_frames (conv, seq, epoch, kind, sender_id, device_id, data, ts) VALUES ('g:1', 1, 0, 'application', 1, 'd1', ${bytes}, 5)`;
const packages = 'SELECT count(*) AS n FROM mls_key_packages';

describe('018-mls', () => {
  it("on SQLite: a device's key packages go with it, and a conversation's frame seq is taken once", () => {
    const db = sqliteAt(':memory:', 17);
    addUser(db, 'Ali');
    migrate(db, 18);
    db.exec(addDevice(SQLITE_BYTES));
    db.exec(frame(SQLITE_BYTES));
    expect(() => db.exec(frame(SQLITE_BYTES))).toThrow(/UNIQUE/);
    db.exec(`DELETE FROM mls_devices`);
    expect(db.prepare(packages).get()).toEqual({ n: 0 });
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL', async () => {
    const url = await postgresAt(17);
    await onPostgres(url, async (client) => {
      await client.query(`INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)`);
      await migratePostgres(client, 'the test database', 18);
      await client.query(addDevice(POSTGRES_BYTES));
      await client.query(frame(POSTGRES_BYTES));
      await expect(client.query(frame(POSTGRES_BYTES))).rejects.toThrow(/unique/);
      await client.query('DELETE FROM mls_devices');
      expect((await client.query(packages)).rows).toEqual([{ n: '0' }]);
    });
  });
});
