import { describe, expect, it } from 'vitest';
import { addUser, forEachBackend, roomMessage, send, store } from './test-store.js';

forEachBackend(() => {
  const SHA = 'a'.repeat(64);

  /** A finished upload of the user's with content SHA, attached to a new room message; returns the message id. */
  async function sentFile(userName: string, fileId: string): Promise<number> {
    const user = await addUser(userName);
    await store.createUpload({ id: fileId, userId: user.id, name: `${fileId}.txt`, size: 10, sha256: SHA, createdAt: Date.now() });
    const file = (await store.completeUpload(fileId, 'text/plain'))!;
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

    it('counts an unfinished upload against its user by declared size, against the room by bytes held, and forgets it when idle', async () => {
      const alice = await addUser('alice');
      const bob = await addUser('bob');
      const upload = (id: string, userId: number, size: number, createdAt: number) =>
        store.createUpload({ id, userId, name: `${id}.bin`, size, sha256: SHA, createdAt });
      await upload('a'.repeat(22), alice.id, 1000, 100);
      await upload('b'.repeat(22), alice.id, 500, 200);
      await upload('c'.repeat(22), bob.id, 700, 300);
      expect(await store.reservationsOf(alice.id)).toEqual({ count: 2, bytes: 1500 });
      expect(await store.reservationsOf(bob.id)).toEqual({ count: 1, bytes: 700 });
      expect(await store.fileStorageUsed()).toBe(0);
      expect(await store.fileBytesOnDay(alice.id, 100)).toBe(1500);

      await store.touchUploads([{ id: 'a'.repeat(22), received: 400 }, { id: 'c'.repeat(22), received: 50 }], 1000);
      expect(await store.uploadById('a'.repeat(22))).toMatchObject({ received: 400 });
      expect(await store.fileStorageUsed()).toBe(450);
      // Idle since before 500: only the one never touched since it began at 200.
      expect(await store.expireUnsent(0, 500)).toEqual(['b'.repeat(22)]);
      expect(await store.reservationsOf(alice.id)).toEqual({ count: 1, bytes: 1000 });
      expect((await store.expireUnsent(0, 1001)).sort()).toEqual(['a'.repeat(22), 'c'.repeat(22)]);
      expect(await store.fileStorageUsed()).toBe(0);
      // The day's count stays: what was begun was begun.
      expect(await store.fileBytesOnDay(alice.id, 100)).toBe(1500);
      expect(await store.completeUpload('a'.repeat(22), 'text/plain')).toBeUndefined();
    });

    it('finds a message by the names of its files', async () => {
      const user = await addUser('carol');
      await sentFile('dave', 'h'.repeat(22));
      const hits = await store.search(user.id, { query: 'hhhh', limit: 10 });
      expect(hits.messages.map((message) => message.attachments?.[0]?.name)).toEqual([`${'h'.repeat(22)}.txt`]);
    });
  });
});
