import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { nameKey } from '../../src-shared/protocol/names.js';
import { lookalikeSkeletons, nameSkeleton } from '../../src-shared/text.js';
import { StoreConflictError } from './types.js';
import { addUser, directMessage, file, roomMessage, send, store, useTestStore } from './test-store.js';

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

describe('accounts that never wrote', () => {
  const silentNames = (createdBefore = Number.MAX_SAFE_INTEGER): string[] =>
    store.silentAccounts(0, createdBefore, 100).map((user) => user.name);

  it('are those with no message sent or received, no reaction, no read position, no group owned or joined', () => {
    const [writer, dmReader, owner, member, idle, requester, reactor, reader] = ['writer', 'reader', 'owner', 'member', 'idle', 'asker', 'reactor', 'looker'].map(addUser);
    const hi = send(roomMessage(writer!, 'hi'));
    store.setReaction(hi.id, reactor!.id, '👍', true);
    store.setReadPosition(reader!.id, 'room', hi.id);
    send(directMessage(writer!, dmReader!, 'psst'));
    const group = store.createGroup('Team', 'team', owner!.id, 1);
    store.addMember(group.id, member!.id);
    store.setRelation(requester!.id, idle!.id, 'pending', requester!.id, 1);
    expect(silentNames()).toEqual(['idle', 'asker']);
    expect(store.silentAccounts(idle!.id, Number.MAX_SAFE_INTEGER, 100).map((u) => u.name)).toEqual(['asker']);
    expect(store.silentAccounts(0, Number.MAX_SAFE_INTEGER, 1).map((u) => u.name)).toEqual(['idle']);
  });

  it('can be chosen by age', () => {
    store.createUser({ name: 'old', nameKey: 'old', skeleton: 'old', passwordHash: 'h', createdAt: 1_000 });
    store.createUser({ name: 'new', nameKey: 'new', skeleton: 'new', passwordHash: 'h', createdAt: 5_000 });
    expect(silentNames(1_000)).toEqual(['old']);
    expect(silentNames(999)).toEqual([]);
  });

  it('are deleted with their sessions, relations and skeletons, freeing the name; a writer is kept', () => {
    const [writer, idle, other] = ['writer', 'wilIiam', 'other'].map(addUser);
    send(roomMessage(writer!, 'hi'));
    store.createSession('token-of-idle', idle!.id, 1);
    store.setRelation(idle!.id, other!.id, 'pending', idle!.id, 1);
    expect(store.deleteSilentAccounts([writer!.id, idle!.id])).toEqual([idle!.id]);
    expect(store.userById(idle!.id)).toBeUndefined();
    expect(store.userById(writer!.id)).toBeDefined();
    expect(store.sessionUserId('token-of-idle')).toBeUndefined();
    expect(store.relationsOf(other!.id)).toEqual([]);
    // Its look-alike skeletons went too: "william" may register now.
    expect(lookalikeSkeletons('william').every((skeleton) => store.userBySkeleton(skeleton) === undefined)).toBe(true);
    expect(silentNames()).toEqual(['other']);
    // The foreign keys are on again for everything else.
    expect(() => store.createSession('dangling', 9999, 1)).toThrow(/FOREIGN KEY/);
  });

  it('know every table that refers to users: a new one must join NEVER_WROTE or the purge in users.ts', () => {
    const db = new Database(file, { readonly: true });
    try {
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
      const references = tables.flatMap((table) =>
        db
          .prepare<[], { table: string; from: string }>(`SELECT "table", "from" FROM pragma_foreign_key_list('${table}')`)
          .all()
          .filter((key) => key.table === 'users')
          .map((key) => `${table}.${key.from}`),
      );
      expect(references.sort()).toEqual([
        'chat_groups.owner_id',
        'files.uploader_id',
        'group_invitations.inviter_id',
        'group_invitations.user_id',
        'group_members.user_id',
        'messages.sender_id',
        'messages.to_user_id',
        'name_skeletons.user_id',
        'reactions.user_id',
        'relations.user_high',
        'relations.user_low',
        'sessions.user_id',
        'uploads.user_id',
      ]);
    } finally {
      db.close();
    }
  });
});
