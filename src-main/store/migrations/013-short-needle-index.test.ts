import { describe, expect, it } from 'vitest';
import { migrate } from './sqlite.js';
import { sqliteAt } from './test-migrations.js';

describe('013-short-needle-index', () => {
  it('is empty and complete for a new database, and marks the messages of an older one for indexing', () => {
    const db = sqliteAt(':memory:', 10);
    db.exec(`INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0);
      INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, 'c1', 'hi', 'hi', 5);`);
    migrate(db, 13);
    expect(db.prepare('SELECT unindexed_below FROM message_grams_state').pluck().get()).toBe(2);
    expect(db.prepare('SELECT count(*) FROM message_grams').pluck().get()).toBe(0);
    db.close();
    const fresh = sqliteAt(':memory:', 13);
    expect(fresh.prepare('SELECT unindexed_below FROM message_grams_state').pluck().get()).toBe(1);
    fresh.close();
  });
});
