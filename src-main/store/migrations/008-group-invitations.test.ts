import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('008-group-invitations', () => {
  it('keeps the messages of a version-7 database as people wrote them', () => {
    const file = join(folder(), 'v7.sqlite');
    const db = sqliteAt(file, 7);
    addUser(db, 'Ali');
    db.prepare("INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ('Ekip', 'ekip', 1, 0)").run();
    db.prepare(
      "INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts) VALUES ('group:1', 1, 1, 'c1', 'Selam', 'selam', 5)",
    ).run();
    db.close();

    const store = openStore(file);
    const [message] = store.history('group:1', undefined, 10).messages;
    expect(message).toEqual({ id: 1, conv: 'group:1', from: 'Ali', groupId: 1, text: 'Selam', ts: 5, clientMsgId: 'c1' });
    expect(store.invitationsOf(1)).toEqual([]);
    store.close();
  });
});
