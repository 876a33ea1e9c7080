import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { addUser, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const device = "INSERT INTO mls_devices (user_id, device_id, signature_key, created_at) VALUES (1, 'd', X'01', 5)";

describe('022-last-resort-key-packages', () => {
  it('on SQLite keeps the devices, none with a last-resort package yet', () => {
    const db = sqliteAt(':memory:', 21);
    addUser(db, 'Ali');
    db.exec(device);
    migrate(db, 22);
    expect(db.prepare('SELECT device_id, last_resort FROM mls_devices').all()).toEqual([{ device_id: 'd', last_resort: null }]);
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL', async () => {
    const url = await postgresAt(21);
    await onPostgres(url, async (client) => {
      await client.query("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)");
      await client.query(device.replace("X'01'", "'\\x01'::bytea"));
      await migratePostgres(client, 'the test database', 22);
      expect((await client.query('SELECT device_id, last_resort FROM mls_devices')).rows).toEqual([{ device_id: 'd', last_resort: null }]);
    });
  });
});
