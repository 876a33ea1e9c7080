import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { openAsyncStore } from './async-store.js';
import { openStore } from './store.js';
import type { AsyncStore, UserRow } from './types.js';

let dir: string;
let file: string;
let store: AsyncStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-async-store-'));
  file = join(dir, 'chat.sqlite');
  store = openAsyncStore(file);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function addUser(name: string): Promise<UserRow> {
  return store.createUser({ name, nameKey: name, skeleton: name, passwordHash: `hash-of-${name}`, createdAt: 1000 });
}

/** What another connection to the file sees: only what was committed. */
function committedGroups(): string[] {
  const reader = openStore(file);
  try {
    return reader.groupsOf(1).map((group) => group.name);
  } finally {
    reader.close();
  }
}

describe('asyncStore', () => {
  it('answers every call with a promise, and a refused call with a rejected one', async () => {
    const alice = await addUser('alice');
    expect(await store.userByKey('alice')).toEqual(alice);
    await expect(addUser('alice')).rejects.toThrow();
  });

  it('settles each call, a query of several statements in a transaction too, before the event loop turns', async () => {
    const turn = (): Promise<string> => new Promise((resolve) => setImmediate(() => resolve('a turn')));
    const alice = await addUser('alice');
    const first = await Promise.race([turn(), addUser('bob').then(() => 'settled')]);
    const group = await store.createGroup('g', 'g', alice.id, 1);
    const second = await Promise.race([turn(), store.setReadPosition(alice.id, groupConversation(group.id), 1, alice.id).then(() => 'settled')]);
    expect([first, second]).toEqual(['settled', 'settled']);
  });

  it('stores a change and its membership lines in one commit', async () => {
    const alice = await addUser('alice');
    const bob = await addUser('bob');
    const { result: group, lines } = await store.changeGroups(7, async (tx) => {
      const group = await tx.createGroup('team', 'team', alice.id, 7);
      await tx.invite(group.id, bob.id, alice.id, 7);
      return { result: group, events: [{ groupId: group.id, actorId: alice.id, event: { kind: 'created', name: 'team' }, text: 'alice created' }] };
    });
    expect(lines.map((line) => line.message.text)).toEqual(['alice created']);
    expect(committedGroups()).toEqual(['team']);
    expect((await store.history(groupConversation(group.id), undefined, 10)).messages.map((m) => m.text)).toEqual(['alice created']);
    expect(await store.invitedIds(group.id)).toEqual([bob.id]);
  });

  it('rolls back every call of a change that throws after awaiting some', async () => {
    const alice = await addUser('alice');
    const bob = await addUser('bob');
    const change = store.changeGroups(7, async (tx) => {
      const group = await tx.createGroup('team', 'team', alice.id, 7);
      await tx.invite(group.id, bob.id, alice.id, 7);
      await tx.setRoomSetting('inside', 'yes');
      throw new Error('changed my mind');
    });
    await expect(change).rejects.toThrow('changed my mind');
    expect(committedGroups()).toEqual([]);
    expect(await store.groupsOf(alice.id)).toEqual([]);
    expect(await store.roomSetting('inside')).toBeUndefined();
  });

  it('makes calls from outside the change wait for its end, so a rollback does not take them', async () => {
    const alice = await addUser('alice');
    let outside: Promise<unknown> | null = null;
    const change = store.changeGroups(7, async (tx) => {
      await tx.createGroup('team', 'team', alice.id, 7);
      // Another request's write, made while the change is open.
      outside = store.setRoomSetting('outside', 'kept');
      await tx.setRoomSetting('inside', 'yes');
      throw new Error('changed my mind');
    });
    await expect(change).rejects.toThrow('changed my mind');
    await outside;
    expect(await store.roomSetting('outside')).toBe('kept');
    expect(await store.roomSetting('inside')).toBeUndefined();
  });

  it('runs changes one after another, and refuses a tx used after its change ended', async () => {
    const alice = await addUser('alice');
    let leaked: AsyncStore | null = null;
    const first = store.changeGroups(1, async (tx) => {
      leaked = tx;
      const group = await tx.createGroup('one', 'one', alice.id, 1);
      return { result: group.id, events: [] };
    });
    const second = store.changeGroups(2, async (tx) => {
      const group = await tx.createGroup('two', 'two', alice.id, 2);
      return { result: group.id, events: [] };
    });
    expect([(await first).result, (await second).result]).toEqual([1, 2]);
    await expect(leaked!.groupById(1)).rejects.toThrow(/after its transaction ended/);
    await expect(store.changeGroups(3, (tx) => tx.changeGroups(3, async () => ({ result: null, events: [] })) as never)).rejects.toThrow(/does not nest/);
    expect(committedGroups()).toEqual(['one', 'two']);
  });
});
