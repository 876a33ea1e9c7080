import { describe, expect, it } from 'vitest';
import { nameKey } from '../../src-shared/protocol/names.js';
import { lookalikeSkeletons, nameSkeleton } from '../../src-shared/text.js';
import { StoreConflictError } from './types.js';
import { addUser, addUsers, directMessage, forEachBackend, referencesToUsers, roomMessage, send, store } from './test-store.js';

forEachBackend(() => {
  describe('users', () => {
    it('are found by id, name key and skeleton, and listed by name key', async () => {
      const zeynep = await addUser('Zeynep');
      const ali = await addUser('Ali');
      expect(ali).toEqual({
        id: ali.id,
        name: 'Ali',
        nameKey: 'ali',
        skeleton: 'ali',
        passwordHash: 'hash-of-Ali',
        createdAt: 1000,
        lastSeen: null,
        status: 'active',
      });
      expect(await store.userById(zeynep.id)).toEqual(zeynep);
      expect(await store.userByKey('ali')).toEqual(ali);
      expect(await store.userBySkeleton('zeynep')).toEqual(zeynep);
      expect(await store.userByKey('nobody')).toBeUndefined();
      expect((await store.listUsers()).map((user) => user.name)).toEqual(['Ali', 'Zeynep']);
      await store.setLastSeen([{ userId: ali.id, ts: 7777, deliveredUpTo: 0 }]);
      expect((await store.userById(ali.id))?.lastSeen).toBe(7777);
    });

    it('store many users’ last-seen times at once, each cursor raised and never lowered', async () => {
      const [ann, bob, cal] = await addUsers('ann', 'bob', 'cal');
      await store.setDeliveredCursor(bob.id, 50);
      await store.setLastSeen([
        { userId: ann.id, ts: 100, deliveredUpTo: 0 },
        { userId: bob.id, ts: 200, deliveredUpTo: 40 },
        { userId: cal.id, ts: 300, deliveredUpTo: 60 },
        { userId: ann.id, ts: 400, deliveredUpTo: 30 },
        { userId: ann.id, ts: 500, deliveredUpTo: 20 },
      ]);
      expect(await Promise.all([ann, bob, cal].map(async (user) => (await store.userById(user.id))!.lastSeen))).toEqual([500, 200, 300]);
      expect(await Promise.all([ann, bob, cal].map((user) => store.deliveredCursor(user.id)))).toEqual([30, 50, 60]);
    });

    it('refuse a taken name key or skeleton with StoreConflictError', async () => {
      await addUser('Ali');
      const base = { name: 'ALI', passwordHash: 'x', createdAt: 1 };
      await expect(store.createUser({ ...base, nameKey: 'ali', skeleton: 'different' })).rejects.toThrow(StoreConflictError);
      await expect(store.createUser({ ...base, nameKey: 'a1i', skeleton: 'ali' })).rejects.toThrow(StoreConflictError);
      expect(await store.listUsers()).toHaveLength(1);
    });
  });

  describe('look-alike names', () => {
    /** The account a registration of `name` would be refused for, as the server looks it up. */
    const lookalikeOf = async (name: string): Promise<string | undefined> =>
      (await Promise.all(lookalikeSkeletons(name).map((skeleton) => store.userBySkeleton(skeleton)))).find((user) => user !== undefined)?.name;
    const register = async (name: string): Promise<void> => {
      await store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash: 'h', createdAt: 1 });
    };

    it('are found whichever of the two came first', async () => {
      await register('wilIiam');
      expect(await lookalikeOf('william')).toBe('wilIiam');
      await register('alice');
      expect(await lookalikeOf('ALlCE')).toBe('alice');
      expect(await lookalikeOf('bob')).toBeUndefined();
    });

    it('refuse a second account that shares any skeleton with StoreConflictError', async () => {
      await register('william');
      await expect(register('wilIiam')).rejects.toThrow(StoreConflictError);
      expect((await store.listUsers()).map((user) => user.name)).toEqual(['william']);
    });
  });

  describe('sessions', () => {
    it('map token hashes to users until deleted', async () => {
      const ali = await addUser('Ali');
      await store.createSession('hash-1', ali.id, 10);
      expect(await store.sessionUserId('hash-1')).toBe(ali.id);
      expect(await store.sessionUserId('hash-2')).toBeUndefined();
      await store.deleteSession('hash-1');
      expect(await store.sessionUserId('hash-1')).toBeUndefined();
    });

    it('keep a delivered cursor per user, 0 until set', async () => {
      const ali = await addUser('Ali');
      expect(await store.deliveredCursor(ali.id)).toBe(0);
      await store.setDeliveredCursor(ali.id, 42);
      expect(await store.deliveredCursor(ali.id)).toBe(42);
    });
  });

  describe('accounts that never wrote', () => {
    const silentNames = async (createdBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> =>
      (await store.silentAccounts(0, createdBefore, 100)).map((user) => user.name);

    it('are those with no message sent or received, no reaction, no read position, no group owned or joined', async () => {
      const [writer, dmReader, owner, member, idle, requester, reactor, reader] = await addUsers('writer', 'reader', 'owner', 'member', 'idle', 'asker', 'reactor', 'looker');
      const hi = await send(roomMessage(writer!, 'hi'));
      await store.setReaction(hi.id, reactor!.id, '👍', true);
      await store.setReadPosition(reader!.id, 'room', hi.id);
      await send(directMessage(writer!, dmReader!, 'psst'));
      const group = await store.createGroup('Team', 'team', owner!.id, 1);
      await store.addMember(group.id, member!.id);
      await store.setRelation(requester!.id, idle!.id, 'pending', requester!.id, 1);
      expect(await silentNames()).toEqual(['idle', 'asker']);
      expect((await store.silentAccounts(idle!.id, Number.MAX_SAFE_INTEGER, 100)).map((u) => u.name)).toEqual(['asker']);
      expect((await store.silentAccounts(0, Number.MAX_SAFE_INTEGER, 1)).map((u) => u.name)).toEqual(['idle']);
    });

    it('can be chosen by age', async () => {
      await store.createUser({ name: 'old', nameKey: 'old', skeleton: 'old', passwordHash: 'h', createdAt: 1_000 });
      await store.createUser({ name: 'new', nameKey: 'new', skeleton: 'new', passwordHash: 'h', createdAt: 5_000 });
      expect(await silentNames(1_000)).toEqual(['old']);
      expect(await silentNames(999)).toEqual([]);
    });

    it('are deleted with their sessions, relations and skeletons, freeing the name; a writer is kept', async () => {
      const [writer, idle, other] = await addUsers('writer', 'wilIiam', 'other');
      await send(roomMessage(writer!, 'hi'));
      await store.createSession('token-of-idle', idle!.id, 1);
      await store.setRelation(idle!.id, other!.id, 'pending', idle!.id, 1);
      expect(await store.deleteSilentAccounts([writer!.id, idle!.id])).toEqual([idle!.id]);
      expect(await store.userById(idle!.id)).toBeUndefined();
      expect(await store.userById(writer!.id)).toBeDefined();
      expect(await store.sessionUserId('token-of-idle')).toBeUndefined();
      expect(await store.relationsOf(other!.id)).toEqual([]);
      // Its look-alike skeletons went too: "william" may register now.
      expect((await Promise.all(lookalikeSkeletons('william').map((skeleton) => store.userBySkeleton(skeleton)))).every((user) => user === undefined)).toBe(true);
      expect(await silentNames()).toEqual(['other']);
      // The foreign keys are on again for everything else.
      await expect(store.createSession('dangling', 9999, 1)).rejects.toThrow(/foreign key constraint/i);
    });

    it('know every table that refers to users: a new one must join NEVER_WROTE or the purge in users.ts', async () => {
      expect(await referencesToUsers()).toEqual([
        'chat_groups.owner_id',
        'files.uploader_id',
        'group_invitations.inviter_id',
        'group_invitations.user_id',
        'group_members.user_id',
        'messages.sender_id',
        'messages.to_user_id',
        // A frame's sender has a device, which is never deleted: NEVER_WROTE's mls_devices covers both.
        'mls_devices.user_id',
        'mls_frames.sender_id',
        'name_skeletons.user_id',
        'reactions.user_id',
        'relations.user_high',
        'relations.user_low',
        'sessions.user_id',
        'uploads.user_id',
      ]);
    });
  });
});
