import { describe, expect, it } from 'vitest';
import { addUser, reopen, store, useTestStore } from './test-store.js';

useTestStore();


describe('access', () => {
  it('keeps pending accounts out of the user list until approved, and deletes only pending ones', () => {
    const ali = addUser('Ali');
    const bob = store.createUser({ name: 'Bob', nameKey: 'bob', skeleton: 'bob', passwordHash: 'h', createdAt: 5, status: 'pending' });
    expect(ali.status).toBe('active');
    expect(store.listUsers().map((user) => user.name)).toEqual(['Ali']);
    expect(store.pendingUsers().map((user) => user.name)).toEqual(['Bob']);
    store.deletePendingUser(ali.id);
    expect(store.userById(ali.id)).toBeDefined();
    store.approveUser(bob.id);
    expect(store.pendingUsers()).toEqual([]);
    expect(store.listUsers().map((user) => user.name)).toEqual(['Ali', 'Bob']);
    const carol = store.createUser({ name: 'Carol', nameKey: 'carol', skeleton: 'carol', passwordHash: 'h', createdAt: 6, status: 'pending' });
    store.deletePendingUser(carol.id);
    expect(store.userById(carol.id)).toBeUndefined();
  });

  it('changes a password hash and ends every session but the one kept', () => {
    const ali = addUser('Ali');
    store.createSession('t1', ali.id, 1);
    store.createSession('t2', ali.id, 1);
    store.createSession('t3', ali.id, 1);
    store.setPasswordHash(ali.id, 'new-hash');
    store.deleteSessionsOf(ali.id, 't2');
    expect(['t1', 't2', 't3'].map((token) => store.sessionUserId(token))).toEqual([undefined, ali.id, undefined]);
    store.deleteSessionsOf(ali.id);
    expect(store.sessionUserId('t2')).toBeUndefined();
    reopen();
    expect(store.userById(ali.id)?.passwordHash).toBe('new-hash');
  });

  it('keeps bans and room settings across a reopen', () => {
    store.addBan('name', 'bob', 1);
    store.addBan('name', 'bob', 2);
    store.addBan('address', '10.0.0.9', 3);
    store.setRoomSetting('access.mode', 'approval');
    store.setRoomSetting('access.mode', 'passphrase');
    reopen();
    expect(store.isBanned('name', 'bob')).toBe(true);
    expect(store.isBanned('address', 'bob')).toBe(false);
    expect(store.bans()).toEqual([
      { kind: 'address', value: '10.0.0.9', createdAt: 3 },
      { kind: 'name', value: 'bob', createdAt: 1 },
    ]);
    expect(store.removeBan('name', 'bob')).toBe(true);
    expect(store.removeBan('name', 'bob')).toBe(false);
    expect(store.roomSetting('access.mode')).toBe('passphrase');
    expect(store.roomSetting('missing')).toBeUndefined();
  });

  it('counts the groups a user owns', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    store.createGroup('A', 'a', ali.id, 1);
    const b = store.createGroup('B', 'b', ali.id, 1);
    store.addMember(b.id, bob.id);
    expect(store.groupsOwnedCount(ali.id)).toBe(2);
    expect(store.groupsOwnedCount(bob.id)).toBe(0);
  });
});
