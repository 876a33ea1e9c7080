import { describe, expect, it } from 'vitest';
import { addUser, roomMessage, send, store, useTestStore } from './test-store.js';

useTestStore();

const SHA = 'a'.repeat(64);

/** A finished upload of the user's with content SHA, attached to a new room message; returns the message id. */
function sentFile(userName: string, fileId: string): number {
  const user = addUser(userName);
  store.createUpload({ id: fileId, userId: user.id, name: `${fileId}.txt`, size: 10, sha256: SHA, createdAt: Date.now() });
  const file = store.completeUpload(fileId, 'text/plain');
  const { id, name, size, type, sha256 } = file;
  return send({ ...roomMessage(user, ''), attachments: [{ id, name, size, type, sha256 }] }).id;
}

describe('the file store', () => {
  it('keeps a content while any message carries it, then hands it over once for removal', () => {
    const first = sentFile('alice', 'f'.repeat(22));
    const second = sentFile('bob', 'g'.repeat(22));
    expect(store.fileById('f'.repeat(22))).toMatchObject({ messageId: first, conv: 'room' });
    expect(store.fileStorageUsed()).toBe(10);

    store.deleteMessage(first);
    expect(store.fileById('f'.repeat(22))).toBeUndefined();
    expect(store.takeOrphanBlobs()).toEqual([]);
    expect(store.hasBlob(SHA)).toBe(true);

    store.deleteMessage(second);
    expect(store.hasBlob(SHA)).toBe(false);
    expect(store.takeOrphanBlobs()).toEqual([SHA]);
    expect(store.takeOrphanBlobs()).toEqual([]);
    expect(store.fileStorageUsed()).toBe(0);
  });

  it('finds a message by the names of its files', async () => {
    const user = addUser('carol');
    sentFile('dave', 'h'.repeat(22));
    const hits = await store.search(user.id, { query: 'hhhh', limit: 10 });
    expect(hits.messages.map((message) => message.attachments?.[0]?.name)).toEqual([`${'h'.repeat(22)}.txt`]);
  });
});
