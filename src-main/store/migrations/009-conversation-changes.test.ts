import { describe, expect, it } from 'vitest';
import { addUser, sqliteAt } from './test-migrations.js';

describe('009-conversation-changes', () => {
  it("takes a deleted group's log, reactions, mentions and read positions along", () => {
    const db = sqliteAt(':memory:', 9);
    addUser(db, 'Ali');
    db.exec(`
      INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ('Ekip', 'ekip', 1, 0), ('Öteki', 'oteki', 1, 0);
      INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts) VALUES ('group:1', 1, 1, 'c1', 'hi', 'hi', 5), ('group:2', 1, 2, 'c2', 'hi', 'hi', 5);
      INSERT INTO conv_events (conv, kind, message_id) VALUES ('group:1', 'message', 1), ('group:2', 'message', 2);
      INSERT INTO reactions (message_id, user_id, emoji) VALUES (1, 1, '👍'), (2, 1, '👍');
      INSERT INTO mentions (user_id, conv, message_id) VALUES (1, 'group:1', 1), (1, 'group:2', 2);
      INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES (1, 'group:1', 1, 1), (1, 'group:2', 2, 2);
      DELETE FROM chat_groups WHERE id = 1;
    `);
    for (const table of ['conv_events', 'reactions', 'mentions', 'read_cursors']) {
      expect(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()).toBe(1);
    }
    expect(db.prepare('SELECT deleted, send_read_receipts FROM messages, users LIMIT 1').get()).toEqual({ deleted: 0, send_read_receipts: 1 });
    db.close();
  });
});
