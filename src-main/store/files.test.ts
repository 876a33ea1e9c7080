import { describe, expect, it } from 'vitest';
import { addUser, forEachBackend, roomMessage, send, store } from './test-store.js';

forEachBackend(() => {
  const SHA = 'a'.repeat(64);

  /** A finished upload of the user's with content SHA, attached to a new room message; returns the message id. */
  async function sentFile(userName: string, fileId: string): Promise<number> {
    const user = await addUser(userName);
    await store.createUpload({ id: fileId, userId: user.id, name: `${fileId}.txt`, size: 10, sha256: SHA, createdAt: Date.now() });
    const file = await store.completeUpload(fileId, 'text/plain');
    const { id, name, size, type, sha256 } = file;
    return (await send({ ...roomMessage(user, ''), attachments: [{ id, name, size, type, sha256 }] })).id;
  }

  describe('the file store', () => {
    it('keeps a content while any message carries it, then hands it over once for removal', async () => {
      const first = await sentFile('alice', 'f'.repeat(22));
      const second = await sentFile('bob', 'g'.repeat(22));
      expect(await store.fileById('f'.repeat(22))).toMatchObject({ messageId: first, conv: 'room' });
      expect(await store.fileStorageUsed()).toBe(10);

      await store.deleteMessage(first);
      expect(await store.fileById('f'.repeat(22))).toBeUndefined();
      expect(await store.takeOrphanBlobs()).toEqual([]);
      expect(await store.hasBlob(SHA)).toBe(true);

      await store.deleteMessage(second);
      expect(await store.hasBlob(SHA)).toBe(false);
      expect(await store.takeOrphanBlobs()).toEqual([SHA]);
      expect(await store.takeOrphanBlobs()).toEqual([]);
      expect(await store.fileStorageUsed()).toBe(0);
    });

    it('finds a message by the names of its files', async () => {
      const user = await addUser('carol');
      await sentFile('dave', 'h'.repeat(22));
      const hits = await store.search(user.id, { query: 'hhhh', limit: 10 });
      expect(hits.messages.map((message) => message.attachments?.[0]?.name)).toEqual([`${'h'.repeat(22)}.txt`]);
    });
  });
});
