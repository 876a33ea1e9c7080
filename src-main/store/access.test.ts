import { describe, expect, it } from 'vitest';
import { addUser, reopen, store, forEachBackend } from './test-store.js';

forEachBackend(() => {
  describe('access', () => {
    it('keeps pending accounts out of the user list until approved, and deletes only pending ones', async () => {
      const ali = await addUser('Ali');
      const bob = await store.createUser({ name: 'Bob', nameKey: 'bob', skeleton: 'bob', passwordHash: 'h', createdAt: 5, status: 'pending' });
      expect(ali.status).toBe('active');
      expect((await store.listUsers()).map((user) => user.name)).toEqual(['Ali']);
      expect((await store.pendingUsers()).map((user) => user.name)).toEqual(['Bob']);
      await store.deletePendingUser(ali.id);
      expect(await store.userById(ali.id)).toBeDefined();
      await store.approveUser(bob.id);
      expect(await store.pendingUsers()).toEqual([]);
      expect((await store.listUsers()).map((user) => user.name)).toEqual(['Ali', 'Bob']);
      const carol = await store.createUser({ name: 'Carol', nameKey: 'carol', skeleton: 'carol', passwordHash: 'h', createdAt: 6, status: 'pending' });
      await store.deletePendingUser(carol.id);
      expect(await store.userById(carol.id)).toBeUndefined();
    });

    it('changes a password hash and ends every session but the one kept', async () => {
      const ali = await addUser('Ali');
      await store.createSession('t1', ali.id, 1);
      await store.createSession('t2', ali.id, 1);
      await store.createSession('t3', ali.id, 1);
      await store.setPasswordHash(ali.id, 'new-hash');
      await store.deleteSessionsOf(ali.id, 't2');
      expect(await Promise.all(['t1', 't2', 't3'].map((token) => store.sessionUserId(token)))).toEqual([undefined, ali.id, undefined]);
      await store.deleteSessionsOf(ali.id);
      expect(await store.sessionUserId('t2')).toBeUndefined();
      await reopen();
      expect((await store.userById(ali.id))?.passwordHash).toBe('new-hash');
    });

    it('keeps bans and room settings across a reopen', async () => {
      await store.addBan('name', 'bob', 1);
      await store.addBan('name', 'bob', 2);
      await store.addBan('address', '10.0.0.9', 3);
      await store.setRoomSetting('access.mode', 'approval');
      await store.setRoomSetting('access.mode', 'passphrase');
      await store.setRoomSetting('access.mute.7', 'forever');
      await store.setRoomSetting('access.mute.12', '1795282300000');
      await store.setRoomSetting('access.muted', 'not under the prefix');
      await reopen();
      expect(await store.roomSettingsUnder('access.mute.')).toEqual([
        { key: 'access.mute.12', value: '1795282300000' },
        { key: 'access.mute.7', value: 'forever' },
      ]);
      expect(await store.isBanned('name', 'bob')).toBe(true);
      expect(await store.isBanned('address', 'bob')).toBe(false);
      expect(await store.bans()).toEqual([
        { kind: 'address', value: '10.0.0.9', createdAt: 3 },
        { kind: 'name', value: 'bob', createdAt: 1 },
      ]);
      expect(await store.removeBan('name', 'bob')).toBe(true);
      expect(await store.removeBan('name', 'bob')).toBe(false);
      expect(await store.roomSetting('access.mode')).toBe('passphrase');
      expect(await store.roomSetting('missing')).toBeUndefined();
    });

    it('counts the groups a user owns', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      await store.createGroup('A', 'a', ali.id, 1);
      const b = await store.createGroup('B', 'b', ali.id, 1);
      await store.addMember(b.id, bob.id);
      expect(await store.groupsOwnedCount(ali.id)).toBe(2);
      expect(await store.groupsOwnedCount(bob.id)).toBe(0);
    });
  });
});
