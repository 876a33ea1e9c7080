import { describe, expect, it } from 'vitest';
import { addUser, sqliteAt } from './test-migrations.js';

describe('017-text-folded-once', () => {
  it('hands the indexer a message stored once, as its text, when the text changes', () => {
    const db = sqliteAt(':memory:', 17);
    addUser(db, 'Ali');
    db.exec(`INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, 'c1', 'hello', '', 5);
      INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts, group_event) VALUES ('room', 1, 'c2', '', '', 5, '{}');
      UPDATE messages SET text = 'hello again' WHERE id = 1;
      UPDATE messages SET text = 'x' WHERE id = 2;
      DELETE FROM messages WHERE id = 2;`);
    expect(db.prepare('SELECT message_id FROM message_search_changed').pluck().all()).toEqual([1]);
    expect(db.prepare('SELECT block, changes FROM message_grams_stale').all()).toEqual([{ block: 0, changes: 1 }]);
    db.close();
  });
});
