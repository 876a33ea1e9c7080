import { describe, expect, it } from 'vitest';
import { nameKey } from '../../src-shared/protocol/names.js';
import { lookalikeSkeletons, nameSkeleton } from '../../src-shared/text.js';
import { StoreConflictError } from './types.js';
import { addUser, store, useTestStore } from './test-store.js';

useTestStore();


describe('users', () => {
  it('are found by id, name key and skeleton, and listed by name key', () => {
    const zeynep = addUser('Zeynep');
    const ali = addUser('Ali');
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
    expect(store.userById(zeynep.id)).toEqual(zeynep);
    expect(store.userByKey('ali')).toEqual(ali);
    expect(store.userBySkeleton('zeynep')).toEqual(zeynep);
    expect(store.userByKey('nobody')).toBeUndefined();
    expect(store.listUsers().map((user) => user.name)).toEqual(['Ali', 'Zeynep']);
    store.setLastSeen(ali.id, 7777);
    expect(store.userById(ali.id)?.lastSeen).toBe(7777);
  });

  it('refuse a taken name key or skeleton with StoreConflictError', () => {
    addUser('Ali');
    const base = { name: 'ALI', passwordHash: 'x', createdAt: 1 };
    expect(() => store.createUser({ ...base, nameKey: 'ali', skeleton: 'different' })).toThrow(StoreConflictError);
    expect(() => store.createUser({ ...base, nameKey: 'a1i', skeleton: 'ali' })).toThrow(StoreConflictError);
    expect(store.listUsers()).toHaveLength(1);
  });
});

describe('look-alike names', () => {
  /** The account a registration of `name` would be refused for, as the server looks it up. */
  const lookalikeOf = (name: string): string | undefined =>
    lookalikeSkeletons(name)
      .map((skeleton) => store.userBySkeleton(skeleton))
      .find((user) => user !== undefined)?.name;
  const register = (name: string): void => {
    store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash: 'h', createdAt: 1 });
  };

  it('are found whichever of the two came first', () => {
    register('wilIiam');
    expect(lookalikeOf('william')).toBe('wilIiam');
    register('alice');
    expect(lookalikeOf('ALlCE')).toBe('alice');
    expect(lookalikeOf('bob')).toBeUndefined();
  });

  it('refuse a second account that shares any skeleton with StoreConflictError', () => {
    register('william');
    expect(() => register('wilIiam')).toThrow(StoreConflictError);
    expect(store.listUsers().map((user) => user.name)).toEqual(['william']);
  });
});

describe('sessions', () => {
  it('map token hashes to users until deleted', () => {
    const ali = addUser('Ali');
    store.createSession('hash-1', ali.id, 10);
    expect(store.sessionUserId('hash-1')).toBe(ali.id);
    expect(store.sessionUserId('hash-2')).toBeUndefined();
    store.deleteSession('hash-1');
    expect(store.sessionUserId('hash-1')).toBeUndefined();
  });

  it('keep a delivered cursor per user, 0 until set', () => {
    const ali = addUser('Ali');
    expect(store.deliveredCursor(ali.id)).toBe(0);
    store.setDeliveredCursor(ali.id, 42);
    expect(store.deliveredCursor(ali.id)).toBe(42);
  });
});
