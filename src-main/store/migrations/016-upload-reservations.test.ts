import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const addUpload = `INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0);
  INSERT INTO uploads (id, user_id, name, size, sha256, created_at) VALUES ('u1', 1, 'a.bin', 10, 'aa', 1234)`;
const reservation = 'SELECT received, active_at FROM uploads';

describe('016-upload-reservations', () => {
  it('gives the uploads under way on SQLite no bytes yet, active since they began', () => {
    const db = sqliteAt(':memory:', 15);
    db.exec(addUpload);
    migrate(db, 16);
    expect(db.prepare(reservation).all()).toEqual([{ received: 0, active_at: 1234 }]);
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL', async () => {
    const url = await postgresAt(15);
    await onPostgres(url, async (client) => {
      await client.query(addUpload);
      await migratePostgres(client, 'the test database', 16);
      expect((await client.query(reservation)).rows).toEqual([{ received: '0', active_at: '1234' }]);
    });
  });
});
