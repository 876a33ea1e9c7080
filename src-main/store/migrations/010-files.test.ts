import { describe, expect, it } from 'vitest';
import { addUser, sqliteAt } from './test-migrations.js';

describe('010-files', () => {
  it("releases a message's files as it is deleted, and their content with the last of them", () => {
    const db = sqliteAt(':memory:', 10);
    addUser(db, 'Ali');
    db.exec(`
      INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts, attachments) VALUES ('room', 1, 'c1', '', '', 5, '[]'), ('room', 1, 'c2', '', '', 5, '[]');
      INSERT INTO blobs (sha256, size) VALUES ('aa', 3);
      INSERT INTO files (id, sha256, name, size, type, uploader_id, message_id, created_at) VALUES ('f1', 'aa', 'a.txt', 3, 'text/plain', 1, 1, 0), ('f2', 'aa', 'a.txt', 3, 'text/plain', 1, 2, 0);
      UPDATE messages SET deleted = 1 WHERE id = 1;
    `);
    expect(db.prepare('SELECT id FROM files').pluck().all()).toEqual(['f2']);
    expect(db.prepare('SELECT attachments FROM messages ORDER BY id').pluck().all()).toEqual([null, '[]']);
    expect(db.prepare('SELECT count(*) FROM orphan_blobs').pluck().get()).toBe(0);
    db.exec('UPDATE messages SET deleted = 1 WHERE id = 2');
    expect(db.prepare('SELECT sha256 FROM orphan_blobs').pluck().all()).toEqual(['aa']);
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(0);
    db.close();
  });
});
