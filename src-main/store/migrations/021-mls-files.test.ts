import { describe, expect, it } from 'vitest';
import { postgresMissing } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate } from './sqlite.js';
import { addUser, onPostgres, postgresAt, sqliteAt } from './test-migrations.js';

const frame = `INSERT INTO mls_frames (id, conv, seq, epoch, kind, sender_id, device_id, data, ts, group_id)
  VALUES (1, 'group:1', 1, 0, 'application', 1, 'd', X'78', 5, 1)`;
const file = (id: string, sha: string, frameId: string): string =>
  `INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at, mls_frame_id) VALUES ('${id}', '${sha}', 'encrypted', 1, 'application/octet-stream', 1, 5, ${frameId})`;

describe('021-mls-files', () => {
  it('on SQLite keeps the files, none carried by a frame, and a frame deleted takes its files and their contents', () => {
    const db = sqliteAt(':memory:', 20);
    addUser(db, 'Ali');
    db.exec("INSERT INTO blobs (sha256, size) VALUES ('a', 1), ('b', 1)");
    db.exec("INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at) VALUES ('old', 'a', 'n', 1, 't', 1, 5)");
    migrate(db, 21);
    expect(db.prepare('SELECT id, mls_frame_id FROM files').all()).toEqual([{ id: 'old', mls_frame_id: null }]);
    db.exec(frame);
    db.exec(file('sealed', 'b', '1'));
    db.exec('DELETE FROM mls_frames WHERE id = 1');
    expect(db.prepare('SELECT id FROM files').all()).toEqual([{ id: 'old' }]);
    expect(db.prepare('SELECT sha256 FROM orphan_blobs').all()).toEqual([{ sha256: 'b' }]);
    db.close();
  });

  it.skipIf(postgresMissing !== undefined)('does the same on PostgreSQL', async () => {
    const url = await postgresAt(20);
    await onPostgres(url, async (client) => {
      await client.query("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)");
      await client.query("INSERT INTO blobs (sha256, size) VALUES ('b', 1)");
      await migratePostgres(client, 'the test database', 21);
      await client.query(frame.replace("X'78'", "'\\x78'::bytea"));
      await client.query(file('sealed', 'b', '1'));
      await client.query('DELETE FROM mls_frames WHERE id = 1');
      expect((await client.query('SELECT id FROM files')).rows).toEqual([]);
      expect((await client.query('SELECT sha256 FROM orphan_blobs')).rows).toEqual([{ sha256: 'b' }]);
    });
  });
});
