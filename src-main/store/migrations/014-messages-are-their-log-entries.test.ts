import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { openAsyncStore } from '../async-store.js';
import { openPgStore } from '../pg/open.js';
import { postgresMissing } from '../pg/testing.js';
import type { AsyncStore } from '../types.js';
import { addUser, eachTestFolder, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

/** Three messages, as the version-13 store logged them: an entry per message, an edit, Bob's read position, a reaction and a mention. */
const version13Rows = `
  INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ('Ekip', 'ekip', 1, 0);
  INSERT INTO group_members (group_id, user_id) VALUES (1, 1), (1, 2);
  INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts) VALUES
    ('room', 1, NULL, 'c1', 'one', 'one', 5), ('room', 2, NULL, 'c2', 'two', 'two', 5), ('group:1', 2, 1, 'c3', 'hi @Ali', 'hi @ali', 5);
  INSERT INTO conv_events (conv, kind, message_id, user_id, up_to) VALUES
    ('room', 'message', 1, NULL, NULL), ('room', 'message', 2, NULL, NULL), ('room', 'edit', 1, NULL, NULL),
    ('room', 'read', NULL, 2, 2), ('group:1', 'message', 3, NULL, NULL);
  UPDATE messages SET change_event = 3 WHERE id = 1;
  INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES (2, 'room', 2, 4);
  INSERT INTO reactions (message_id, user_id, emoji) VALUES (3, 1, '👍');
  INSERT INTO mentions (user_id, conv, message_id) VALUES (1, 'group:1', 3);`;

/** The old entries keep their ids and order; new messages and entries take ids above them, from one sequence. */
async function expectOneSequence(store: AsyncStore): Promise<void> {
  const entries = async (after: number): Promise<[number, string][]> =>
    (await store.events(1, after, 50)).events.map((event) => [event.eventId, event.kind === 'read' ? 'read' : `${event.kind} ${event.message.id}`]);
  expect(await store.lastEventId()).toBe(5);
  expect(await entries(0)).toEqual([[1, 'message 1'], [2, 'message 2'], [3, 'edit 1'], [5, 'message 3']]);
  expect(await store.messageIdAtEvent(4)).toBe(2);
  expect(await store.messageIdAtEvent(5)).toBe(3);

  const [sent] = await store.insertMessages([{ conv: 'room', senderId: 2, clientMsgId: 'c4', text: 'four', ts: 6 }]);
  expect(sent).toMatchObject({ message: { id: 6 }, eventId: 6 });
  expect((await store.editMessage(6, 'four, edited', 7)).eventId).toBe(7);
  const [next] = await store.insertMessages([{ conv: 'room', senderId: 1, clientMsgId: 'c5', text: 'five', ts: 8 }]);
  expect(next).toMatchObject({ message: { id: 8 }, eventId: 8 });
  expect(await entries(0)).toEqual([[1, 'message 1'], [2, 'message 2'], [3, 'edit 1'], [5, 'message 3'], [6, 'message 6'], [7, 'edit 6'], [8, 'message 8']]);
  expect(await entries(5)).toEqual([[6, 'message 6'], [7, 'edit 6'], [8, 'message 8']]);
  expect(await store.messageIdAtEvent(7)).toBe(6);
  expect(await store.lastEventId()).toBe(8);
  // A group deleted takes the reactions and mentions of its old messages too.
  await store.deleteGroup(1);
}

describe('014-messages-are-their-log-entries', () => {
  it('keeps the event log of a version-13 SQLite database in order', async () => {
    const file = join(folder(), 'v13.sqlite');
    const db = sqliteAt(file, 13);
    addUser(db, 'Ali');
    addUser(db, 'Bob');
    db.exec(version13Rows);
    db.close();

    const store = openAsyncStore(file);
    await expectOneSequence(store);
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT (SELECT count(*) FROM reactions) + (SELECT count(*) FROM mentions) + (SELECT count(*) FROM conv_events WHERE conv = 'group:1')").pluck().get()).toBe(0);
    check.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL, whose version 1 before the one list was 13', async () => {
    const url = await postgresAt(13);
    await onPostgres(url, (client) =>
      client.query(`UPDATE schema_version SET version = 1;
        INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0), ('Bob', 'bob', 'bob', 'x', 0);
        ${version13Rows}`),
    );
    const store = await openPgStore(url);
    try {
      await expectOneSequence(store);
    } finally {
      await store.close();
    }
    await onPostgres(url, async (client) => {
      const left = await client.query("SELECT ((SELECT count(*) FROM reactions) + (SELECT count(*) FROM mentions) + (SELECT count(*) FROM conv_events WHERE conv = 'group:1'))::int AS n");
      expect(left.rows).toEqual([{ n: 0 }]);
    });
  });
});
