import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { addUser, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const lines = 'SELECT text, call_event FROM messages ORDER BY id';

describe('019-call-lines', () => {
  it('keeps the messages on SQLite, none of them a call line, and takes call lines after', () => {
    const db = sqliteAt(':memory:', 18);
    addUser(db, 'Ali');
    db.exec("INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, 'c1', 'hello', '', 5)");
    migrate(db, 19);
    db.exec(`INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts, call_event) VALUES ('room', 1, 'c2', 'Missed voice call from Ali', '', 6, '{"kind":"missed"}')`);
    expect(db.prepare(lines).all()).toEqual([
      { text: 'hello', call_event: null },
      { text: 'Missed voice call from Ali', call_event: '{"kind":"missed"}' },
    ]);
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL', async () => {
    const url = await postgresAt(18);
    await onPostgres(url, async (client) => {
      await client.query("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)");
      await client.query("INSERT INTO messages (id, conv, sender_id, client_msg_id, text, folded, ts) VALUES (1, 'room', 1, 'c1', 'hello', '', 5)");
      await migratePostgres(client, 'the test database', 19);
      expect((await client.query(lines)).rows).toEqual([{ text: 'hello', call_event: null }]);
    });
  });
});
