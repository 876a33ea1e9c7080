import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dmConversation, groupConversation, ROOM } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../src-shared/text.js';
import { LATEST_VERSION } from './migrations.js';
import { openStore, StoreOpenError } from './store.js';
import { StoreConflictError, type NewMessage, type ServerStore, type UserRow } from './types.js';

let dir: string;
let file: string;
let store: ServerStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-store-'));
  file = join(dir, 'data', 'chat.sqlite');
  store = openStore(file);
});

afterEach(() => {
  try {
    store.close();
  } catch {
    // A test may have closed it already.
  }
  rmSync(dir, { recursive: true, force: true });
});

function reopen(): void {
  store.close();
  store = openStore(file);
}

function addUser(name: string): UserRow {
  const key = name.toLowerCase();
  return store.createUser({ name, nameKey: key, skeleton: key, passwordHash: `hash-of-${name}`, createdAt: 1000 });
}

let clientIds = 0;
function roomMessage(sender: UserRow, text: string): NewMessage {
  return { conv: ROOM, senderId: sender.id, clientMsgId: `c${++clientIds}`, text, ts: 2000 + clientIds };
}
function directMessage(sender: UserRow, recipient: UserRow, text: string): NewMessage {
  return {
    conv: dmConversation(sender.id, recipient.id),
    senderId: sender.id,
    toUserId: recipient.id,
    clientMsgId: `c${++clientIds}`,
    text,
    ts: 2000 + clientIds,
  };
}
function groupMessage(sender: UserRow, groupId: number, text: string): NewMessage {
  return { conv: groupConversation(groupId), senderId: sender.id, groupId, clientMsgId: `c${++clientIds}`, text, ts: 2000 + clientIds };
}
function send(message: NewMessage): ChatMessage {
  return store.insertMessage(message).message;
}

function texts(messages: ChatMessage[]): string[] {
  return messages.map((message) => message.text);
}

function searchTexts(userId: number, query: string, personId?: number): string[] {
  return texts(store.search(userId, { query, limit: 100, ...(personId !== undefined ? { personId } : {}) }).messages);
}

/** Runs FTS5's own check that message_search matches the messages table exactly. */
function expectSearchIndexInStep(): void {
  store.close();
  const db = new Database(file);
  expect(() => db.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
  db.close();
  store = openStore(file);
}

/** Small deterministic PRNG (mulberry32), so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- opening

describe('opening', () => {
  it('creates the missing folder and an up-to-date database in WAL mode', () => {
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    store = openStore(file);
  });

  it('keeps everything across close and reopen', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    send(roomMessage(ali, 'Merhaba herkese'));
    send(directMessage(ali, bob, 'selam Bob'));
    const group = store.createGroup('Ekip', 'ekip', ali.id, 3000);
    store.addMember(group.id, bob.id);
    send(groupMessage(bob, group.id, 'toplantı yarın'));
    store.setRelation(ali.id, bob.id, 'accepted', ali.id, 4000);
    store.createSession('token-hash', ali.id, 5000);
    store.setDeliveredCursor(bob.id, 2);
    store.setLastSeen(ali.id, 6000);

    reopen();

    expect(store.userByKey('ali')).toEqual({ ...ali, lastSeen: 6000 });
    expect(texts(store.history(ROOM, undefined, 10).messages)).toEqual(['Merhaba herkese']);
    expect(texts(store.sync(bob.id, 0, 10).messages)).toEqual(['Merhaba herkese', 'selam Bob', 'toplantı yarın']);
    expect(searchTexts(bob.id, 'toplanti')).toEqual(['toplantı yarın']);
    expect(store.memberIds(group.id)).toEqual([ali.id, bob.id]);
    expect(store.relation(bob.id, ali.id)?.state).toBe('accepted');
    expect(store.sessionUserId('token-hash')).toBe(ali.id);
    expect(store.deliveredCursor(bob.id)).toBe(2);
    expect(store.lastMessageId()).toBe(3);
  });

  it('refuses a file that is not a database, naming the file', () => {
    store.close();
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, randomBytes(64 * 1024));
    expect(() => openStore(junk)).toThrow(StoreOpenError);
    expect(() => openStore(junk)).toThrow(`"${junk}" is not a LanChat database or is damaged`);
    store = openStore(file);
  });

  it('refuses a LanChat database whose schema is damaged', () => {
    addUser('Ali');
    store.close();
    const bytes = readFileSync(file);
    // Keep the 100-byte header, scribble over the schema table on the rest of page 1.
    randomBytes(4096 - 100).copy(bytes, 100);
    writeFileSync(file, bytes);
    expect(() => openStore(file)).toThrow(StoreOpenError);
    expect(() => openStore(file)).toThrow(/is not a LanChat database or is damaged: .*malformed/);
    rmSync(file);
    store = openStore(file);
  });

  it("refuses another application's SQLite database and leaves it alone", () => {
    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    expect(() => openStore(other)).toThrow(/"[^"]*other\.sqlite" is a database of another application/);
    const check = new Database(other, { readonly: true });
    expect(check.prepare('SELECT name FROM sqlite_schema').pluck().all()).toEqual(['notes']);
    check.close();
  });

  it('refuses a database written by a newer version, without changing it', () => {
    store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => openStore(file)).toThrow(StoreOpenError);
    expect(() => openStore(file)).toThrow(`"${file}" was written by a newer version of LanChat`);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
    check.close();
    const repair = new Database(file);
    repair.pragma(`user_version = ${LATEST_VERSION}`);
    repair.close();
    store = openStore(file);
  });
});

// ---------------------------------------------------------------- users and sessions

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

// ---------------------------------------------------------------- messages

describe('storing messages', () => {
  it('returns each kind of message with only the fields that apply', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const group = store.createGroup('Ekip', 'ekip', ali.id, 1);
    expect(store.lastMessageId()).toBe(0);

    const room = store.insertMessage({ conv: ROOM, senderId: ali.id, clientMsgId: 'r1', text: 'hi all', ts: 11 });
    expect(room).toEqual({
      duplicate: false,
      message: { id: 1, conv: 'room', from: 'Ali', text: 'hi all', ts: 11, clientMsgId: 'r1' },
    });
    expect(Object.keys(room.message)).not.toContain('to');
    expect(Object.keys(room.message)).not.toContain('groupId');

    const direct = send({ ...directMessage(bob, ali, 'hi Ali'), clientMsgId: 'd1', ts: 12 });
    expect(direct).toEqual({ id: 2, conv: dmConversation(ali.id, bob.id), from: 'Bob', to: 'Ali', text: 'hi Ali', ts: 12, clientMsgId: 'd1' });
    expect(Object.keys(direct)).not.toContain('groupId');

    const inGroup = send({ ...groupMessage(ali, group.id, 'hi team'), clientMsgId: 'g1', ts: 13 });
    expect(inGroup).toEqual({ id: 3, conv: `group:${group.id}`, from: 'Ali', groupId: group.id, text: 'hi team', ts: 13, clientMsgId: 'g1' });
    expect(Object.keys(inGroup)).not.toContain('to');

    // What a later read returns is exactly what the insert returned.
    expect(store.sync(ali.id, 0, 10).messages).toEqual([room.message, direct, inGroup]);
    expect(store.lastMessageId()).toBe(3);
  });

  it('returns the stored message for a repeated (sender, clientMsgId) and stores nothing', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const first = store.insertMessage({ conv: ROOM, senderId: ali.id, clientMsgId: 'same', text: 'first', ts: 1 });
    const again = store.insertMessage({ conv: ROOM, senderId: ali.id, clientMsgId: 'same', text: 'second', ts: 2 });
    expect(again).toEqual({ message: first.message, duplicate: true });
    expect(store.messageByClientId(ali.id, 'same')).toEqual(first.message);
    expect(store.messageByClientId(bob.id, 'same')).toBeUndefined();
    expect(store.lastMessageId()).toBe(first.message.id);
    expect(searchTexts(ali.id, 'second')).toEqual([]);

    const otherSender = store.insertMessage({ conv: ROOM, senderId: bob.id, clientMsgId: 'same', text: 'bob', ts: 3 });
    expect(otherSender.duplicate).toBe(false);
    expect(texts(store.history(ROOM, undefined, 10).messages)).toEqual(['first', 'bob']);
  });

  it('stores a batch in order and recognises duplicates within it', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    send({ ...roomMessage(ali, 'before'), clientMsgId: 'x' });
    const results = store.insertMessages([
      { ...roomMessage(ali, 'one'), clientMsgId: 'a' },
      { ...directMessage(bob, ali, 'two'), clientMsgId: 'b' },
      { ...roomMessage(ali, 'one again'), clientMsgId: 'a' },
      { ...roomMessage(ali, 'old one'), clientMsgId: 'x' },
      { ...roomMessage(bob, 'three'), clientMsgId: 'a' },
    ]);
    expect(results.map((result) => [result.message.text, result.duplicate])).toEqual([
      ['one', false],
      ['two', false],
      ['one', true],
      ['before', true],
      ['three', false],
    ]);
    expect(results[2]!.message).toEqual(results[0]!.message);
    expect(searchTexts(ali.id, 'one')).toEqual(['one']);
    expect(searchTexts(ali.id, 'three')).toEqual(['three']);
  });

  it('stores nothing of a batch when one message fails', () => {
    const ali = addUser('Ali');
    expect(() =>
      store.insertMessages([roomMessage(ali, 'good'), { ...roomMessage(ali, 'unknown sender'), senderId: 999 }]),
    ).toThrow(/FOREIGN KEY/);
    expect(store.lastMessageId()).toBe(0);
    expect(searchTexts(ali.id, 'good')).toEqual([]);
  });

  it('refuses a conversation key that does not match sender, recipient and group', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const carol = addUser('Carol');
    expect(() => send({ ...directMessage(ali, bob, 'x'), conv: dmConversation(ali.id, carol.id) })).toThrow(/CHECK/);
    expect(() => send({ ...directMessage(ali, bob, 'x'), conv: ROOM })).toThrow(/CHECK/);
    expect(() => send({ ...roomMessage(ali, 'x'), conv: 'group:1' })).toThrow(/CHECK/);
    expect(() => send({ ...groupMessage(ali, 1, 'x'), conv: 'group:2' })).toThrow(/CHECK/);
    expect(store.lastMessageId()).toBe(0);
  });

  it('never hands out an id again, even after the newest messages are deleted', () => {
    const ali = addUser('Ali');
    const group = store.createGroup('Ekip', 'ekip', ali.id, 1);
    send(roomMessage(ali, 'room'));
    const last = send(groupMessage(ali, group.id, 'in group'));
    store.deleteGroup(group.id);
    reopen();
    expect(send(roomMessage(ali, 'next')).id).toBe(last.id + 1);
  });
});

describe('history', () => {
  it('pages backwards through one conversation, each page oldest first', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const roomIds: number[] = [];
    for (let i = 1; i <= 25; i++) {
      roomIds.push(send(roomMessage(ali, `room ${i}`)).id);
      send(directMessage(ali, bob, `dm ${i}`));
    }

    const latest = store.history(ROOM, undefined, 10);
    expect(texts(latest.messages)).toEqual(Array.from({ length: 10 }, (_, i) => `room ${16 + i}`));
    expect(latest.hasMore).toBe(true);

    const older = store.history(ROOM, latest.messages[0]!.id, 10);
    expect(texts(older.messages)).toEqual(Array.from({ length: 10 }, (_, i) => `room ${6 + i}`));
    expect(older.hasMore).toBe(true);

    const oldest = store.history(ROOM, older.messages[0]!.id, 10);
    expect(texts(oldest.messages)).toEqual(['room 1', 'room 2', 'room 3', 'room 4', 'room 5']);
    expect(oldest.hasMore).toBe(false);

    // Exactly `limit` messages left: no more after them.
    const exact = store.history(ROOM, roomIds[10], 10);
    expect(exact.messages).toHaveLength(10);
    expect(exact.hasMore).toBe(false);

    expect(texts(store.history(dmConversation(ali.id, bob.id), undefined, 2).messages)).toEqual(['dm 24', 'dm 25']);
    expect(store.history('group:99', undefined, 10)).toEqual({ messages: [], hasMore: false });
  });
});

// ---------------------------------------------------------------- visibility: sync and search

describe('sync', () => {
  it('returns the room, own direct messages both ways and current groups, oldest first', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const carol = addUser('Carol');
    const team = store.createGroup('Team', 'team', bob.id, 1);
    const secret = store.createGroup('Secret', 'secret', bob.id, 1);
    store.addMember(team.id, ali.id);

    send(roomMessage(bob, 'room 1'));
    send(directMessage(ali, bob, 'ali to bob'));
    send(directMessage(carol, ali, 'carol to ali'));
    send(directMessage(bob, carol, 'bob to carol'));
    send(groupMessage(bob, team.id, 'team 1'));
    send(groupMessage(bob, secret.id, 'secret 1'));
    send(roomMessage(carol, 'room 2'));

    expect(texts(store.sync(ali.id, 0, 50).messages)).toEqual(['room 1', 'ali to bob', 'carol to ali', 'team 1', 'room 2']);
    expect(texts(store.sync(carol.id, 0, 50).messages)).toEqual(['room 1', 'carol to ali', 'bob to carol', 'room 2']);

    store.removeMember(team.id, ali.id);
    expect(texts(store.sync(ali.id, 0, 50).messages)).toEqual(['room 1', 'ali to bob', 'carol to ali', 'room 2']);
    store.addMember(secret.id, ali.id);
    expect(texts(store.sync(ali.id, 0, 50).messages)).toContain('secret 1');
  });

  it('pages forwards with after and hasMore', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    for (let i = 1; i <= 7; i++) {
      send(roomMessage(bob, `room ${i}`));
      send(directMessage(bob, ali, `dm ${i}`));
    }
    const seen: string[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const page = store.sync(ali.id, after, 4);
      pages++;
      seen.push(...texts(page.messages));
      if (!page.hasMore) break;
      after = page.messages.at(-1)!.id;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => [`room ${i + 1}`, `dm ${i + 1}`]).flat());
    expect(store.sync(ali.id, store.lastMessageId(), 4)).toEqual({ messages: [], hasMore: false });
  });
});

describe('search', () => {
  let ali: UserRow;
  let bob: UserRow;
  beforeEach(() => {
    ali = addUser('Ali');
    bob = addUser('Bob');
  });

  it('finds a part of a word anywhere, newest first', () => {
    send(roomMessage(bob, 'selam'));
    send(roomMessage(bob, 'Merhaba, Selin'));
    send(roomMessage(bob, 'hello'));
    expect(searchTexts(ali.id, 'sel')).toEqual(['Merhaba, Selin', 'selam']);
    expect(searchTexts(ali.id, 'SELİN')).toEqual(['Merhaba, Selin']);
  });

  it('finds one and two letters in any message that holds them', () => {
    send(roomMessage(bob, 'one'));
    send(roomMessage(bob, 'two'));
    send(roomMessage(bob, 'three'));
    send(roomMessage(bob, 'Ödev'));
    expect(searchTexts(ali.id, 'o')).toEqual(['Ödev', 'two', 'one']);
    expect(searchTexts(ali.id, 'e')).toEqual(['Ödev', 'three', 'one']);
    expect(searchTexts(ali.id, 'RE')).toEqual(['three']);
  });

  it('treats Turkish İ, I, ı and i alike, and ignores diacritics', () => {
    const spellings = ['İSTANBUL', 'istanbul', 'Istanbul', 'ıstanbul'];
    for (const spelling of spellings) send(roomMessage(bob, `${spelling} güzel`));
    send(roomMessage(bob, 'Şule geldi'));
    send(roomMessage(bob, 'café au lait'));
    for (const query of spellings) {
      expect(searchTexts(ali.id, query).sort(), query).toEqual(spellings.map((s) => `${s} güzel`).sort());
    }
    expect(searchTexts(ali.id, 'sule')).toEqual(['Şule geldi']);
    expect(searchTexts(ali.id, 'ŞULE')).toEqual(['Şule geldi']);
    expect(searchTexts(ali.id, 'cafe')).toEqual(['café au lait']);
    expect(searchTexts(ali.id, 'guzel')).toHaveLength(4);
  });

  it('matches several words as one phrase', () => {
    send(roomMessage(bob, 'Good morning everyone'));
    send(roomMessage(bob, 'morning, good people'));
    send(roomMessage(bob, 'good and morning'));
    expect(searchTexts(ali.id, 'good morning')).toEqual(['Good morning everyone']);
    expect(searchTexts(ali.id, '  GOOD MORNING  ')).toEqual(['Good morning everyone']);
  });

  it('takes full-text syntax and wildcards in the query literally', () => {
    const samples = ['say "foo" OR bar', 'foo" OR bar', 'NEAR(a b)', 'x * y', 'a-b-c', '50%_off', 'back\\slash', "it's", 'col:umn', '^start'];
    const stored = [...samples, 'plain foo and bar'];
    for (const text of stored) send(roomMessage(bob, text));
    for (const query of ['foo" OR bar', '"', '""', '*', 'NEAR(', '-', 'a-b', '%', '%_', '_o', '\\', "'", 'col:', '^st', 'OR', 'AND', 'NOT', '(', ')']) {
      const expected = stored.filter((text) => foldForSearch(text).includes(foldForSearch(query)));
      expect(searchTexts(ali.id, query).sort(), query).toEqual(expected.sort());
    }
    expect(searchTexts(ali.id, 'foo" OR bar')).toEqual(['foo" OR bar', 'say "foo" OR bar']);
  });

  it('counts characters, not UTF-16 units, when choosing between index and scan', () => {
    send(roomMessage(bob, 'party 🎉🎉 time'));
    send(roomMessage(bob, 'a🎉b'));
    expect(searchTexts(ali.id, '🎉🎉')).toEqual(['party 🎉🎉 time']);
    expect(searchTexts(ali.id, 'a🎉b')).toEqual(['a🎉b']);
    expect(searchTexts(ali.id, '🎉')).toEqual(['a🎉b', 'party 🎉🎉 time']);
  });

  it('returns nothing for an empty query without a person', () => {
    send(roomMessage(bob, 'anything'));
    expect(store.search(ali.id, { query: '', limit: 10 })).toEqual({ messages: [], hasMore: false });
    expect(store.search(ali.id, { query: '   ', limit: 10 })).toEqual({ messages: [], hasMore: false });
  });

  it('pages backwards with before and hasMore', () => {
    for (let i = 1; i <= 12; i++) send(roomMessage(bob, `note ${i}`));
    for (const query of ['note', 'n']) {
      const first = store.search(ali.id, { query, limit: 5 });
      expect(texts(first.messages)).toEqual(['note 12', 'note 11', 'note 10', 'note 9', 'note 8']);
      expect(first.hasMore).toBe(true);
      const second = store.search(ali.id, { query, limit: 5, before: first.messages.at(-1)!.id });
      expect(texts(second.messages)).toEqual(['note 7', 'note 6', 'note 5', 'note 4', 'note 3']);
      const last = store.search(ali.id, { query, limit: 5, before: second.messages.at(-1)!.id });
      expect(texts(last.messages)).toEqual(['note 2', 'note 1']);
      expect(last.hasMore).toBe(false);
    }
  });

  it("never shows other people's direct messages or groups the searcher is not in", () => {
    const carol = addUser('Carol');
    const secret = store.createGroup('Secret', 'secret', bob.id, 1);
    store.addMember(secret.id, carol.id);
    send(directMessage(bob, carol, 'hidden plan'));
    send(groupMessage(carol, secret.id, 'hidden group plan'));
    send(roomMessage(bob, 'open plan'));
    for (const query of ['plan', 'hidden', 'p', '']) {
      const found = store.search(ali.id, { query, limit: 50, personId: bob.id }).messages;
      expect(texts(found), query).toEqual(query === 'hidden' ? [] : ['open plan']);
    }
    expect(searchTexts(ali.id, 'plan')).toEqual(['open plan']);
    expect(searchTexts(ali.id, 'pl')).toEqual(['open plan']);
    expect(searchTexts(carol.id, 'plan')).toEqual(['open plan', 'hidden group plan', 'hidden plan']);
  });

  it('forgets a group for a member who was removed, in search and sync alike', () => {
    const team = store.createGroup('Team', 'team', bob.id, 1);
    store.addMember(team.id, ali.id);
    send(groupMessage(ali, team.id, 'my own words'));
    send(groupMessage(bob, team.id, 'words from bob'));
    expect(searchTexts(ali.id, 'words')).toEqual(['words from bob', 'my own words']);
    store.removeMember(team.id, ali.id);
    expect(searchTexts(ali.id, 'words')).toEqual([]);
    expect(searchTexts(ali.id, 'w')).toEqual([]);
    expect(searchTexts(ali.id, '', bob.id)).toEqual([]);
    expect(searchTexts(ali.id, '', ali.id)).toEqual([]);
    expect(store.sync(ali.id, 0, 10).messages).toEqual([]);
    expect(searchTexts(bob.id, 'words')).toEqual(['words from bob', 'my own words']);
  });

  it('removes the messages of a deleted group from search and from the index', () => {
    const team = store.createGroup('Team', 'team', bob.id, 1);
    store.addMember(team.id, ali.id);
    send(groupMessage(bob, team.id, 'budget draft'));
    send(roomMessage(bob, 'budget final'));
    store.deleteGroup(team.id);
    expect(searchTexts(bob.id, 'budget')).toEqual(['budget final']);
    expect(searchTexts(bob.id, 'bu')).toEqual(['budget final']);
    expect(store.history(groupConversation(team.id), undefined, 10).messages).toEqual([]);
    expectSearchIndexInStep();
  });

  it('with a person: their visible messages and the direct messages between the two', () => {
    const carol = addUser('Carol');
    const team = store.createGroup('Team', 'team', ali.id, 1);
    store.addMember(team.id, bob.id);
    send(roomMessage(bob, 'bob in room'));
    send(directMessage(ali, bob, 'ali to bob'));
    send(directMessage(bob, ali, 'bob to ali'));
    send(directMessage(bob, carol, 'bob to carol'));
    send(groupMessage(bob, team.id, 'bob in team'));
    send(roomMessage(carol, 'carol in room'));
    send(directMessage(ali, carol, 'ali to carol'));

    expect(searchTexts(ali.id, '', bob.id)).toEqual(['bob in team', 'bob to ali', 'ali to bob', 'bob in room']);
    expect(searchTexts(ali.id, 'ali', bob.id)).toEqual(['bob to ali', 'ali to bob']);
    expect(searchTexts(ali.id, 'in', bob.id)).toEqual(['bob in team', 'bob in room']);
    expect(searchTexts(ali.id, 'o', carol.id)).toEqual(['ali to carol', 'carol in room']);
    expect(searchTexts(ali.id, '', ali.id)).toEqual(['ali to carol', 'ali to bob']);
  });
});

/**
 * Random users, groups, membership changes and messages, checked against a
 * plain model of who may see what: sync and search must agree with it exactly.
 */
describe('visibility against a model', () => {
  it('agrees for every user, query and page size', () => {
    const random = seededRandom(7);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const users = ['Ali', 'Bob', 'Cem', 'Dila', 'Ece'].map(addUser);
    const groups = [0, 1, 2].map((n) => store.createGroup(`G${n}`, `g${n}`, users[n]!.id, 1));
    const members = new Map(groups.map((group) => [group.id, new Set([group.ownerId])]));
    const words = ['selam', 'Şule', 'İstanbul', 'kahve', 'ok', 'a', 'toplantı', 'café'];
    const stored: { message: ChatMessage; senderId: number; toUserId?: number; groupId?: number }[] = [];

    for (let step = 0; step < 400; step++) {
      const roll = random();
      if (roll < 0.1) {
        const group = pick(groups);
        const user = pick(users);
        if (user.id === group.ownerId) continue;
        if (members.get(group.id)!.has(user.id)) {
          store.removeMember(group.id, user.id);
          members.get(group.id)!.delete(user.id);
        } else {
          store.addMember(group.id, user.id);
          members.get(group.id)!.add(user.id);
        }
        continue;
      }
      const sender = pick(users);
      const text = `${pick(words)} ${pick(words)}`;
      let message: NewMessage;
      if (roll < 0.4) message = roomMessage(sender, text);
      else if (roll < 0.7) {
        const recipient = pick(users.filter((user) => user.id !== sender.id));
        message = directMessage(sender, recipient, text);
      } else {
        const group = pick(groups);
        message = groupMessage(sender, group.id, text);
      }
      const { toUserId, groupId } = message;
      stored.push({ message: send(message), senderId: sender.id, toUserId, groupId });
    }

    /** Every page of a search with a small limit, checking that only the last page says it is the last. */
    const searchAllPages = (userId: number, query: string, personId?: number): ChatMessage[] => {
      const found: ChatMessage[] = [];
      let before: number | undefined;
      for (;;) {
        const page = store.search(userId, { query, limit: 3, ...(personId ? { personId } : {}), ...(before ? { before } : {}) });
        found.push(...page.messages);
        if (!page.hasMore) return found;
        expect(page.messages).toHaveLength(3);
        before = page.messages.at(-1)!.id;
      }
    };

    const visible = (userId: number) =>
      stored.filter(({ message, senderId, toUserId, groupId }) => {
        if (groupId !== undefined) return members.get(groupId)!.has(userId);
        if (toUserId !== undefined) return senderId === userId || toUserId === userId;
        return message.conv === ROOM;
      });

    for (const user of users) {
      const expected = visible(user.id);
      for (const limit of [1, 7, 500]) {
        const synced: ChatMessage[] = [];
        let after = 0;
        for (;;) {
          const page = store.sync(user.id, after, limit);
          synced.push(...page.messages);
          if (!page.hasMore) break;
          after = page.messages.at(-1)!.id;
        }
        expect(synced).toEqual(expected.map((entry) => entry.message));
      }
      for (const query of ['sel', 'İSTANBUL', 'sule', 'cafe', 'a', 'ok', 'kahve ok', 'toplanti']) {
        const needle = foldForSearch(query);
        const matches = expected.filter((entry) => foldForSearch(entry.message.text).includes(needle)).reverse();
        expect(searchAllPages(user.id, query), `${user.name} ${query}`).toEqual(matches.map((entry) => entry.message));
        for (const person of users) {
          const withPerson = matches.filter(
            (entry) =>
              entry.senderId === person.id ||
              (entry.toUserId !== undefined && entry.message.conv === dmConversation(user.id, person.id)),
          );
          expect(searchAllPages(user.id, query, person.id)).toEqual(withPerson.map((entry) => entry.message));
        }
      }
    }
    expectSearchIndexInStep();
  });
});

// ---------------------------------------------------------------- relations and groups

describe('relations', () => {
  it('are stored once per pair, whatever the argument order', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const carol = addUser('Carol');
    const pending = store.setRelation(bob.id, ali.id, 'pending', bob.id, 10);
    expect(pending).toEqual({ userLow: ali.id, userHigh: bob.id, state: 'pending', requesterId: bob.id, since: 10 });
    expect(store.relation(ali.id, bob.id)).toEqual(pending);

    const accepted = store.setRelation(ali.id, bob.id, 'accepted', bob.id, 20);
    expect(accepted).toEqual({ ...pending, state: 'accepted', since: 20 });
    store.setRelation(carol.id, bob.id, 'declined', carol.id, 30);

    expect(store.relationsOf(bob.id).map((relation) => [relation.userLow, relation.userHigh])).toEqual([
      [ali.id, bob.id],
      [bob.id, carol.id],
    ]);
    expect(store.relationsOf(ali.id)).toEqual([accepted]);

    store.deleteRelation(bob.id, ali.id);
    expect(store.relation(ali.id, bob.id)).toBeUndefined();
    expect(store.relationsOf(ali.id)).toEqual([]);
    expect(store.relationsOf(carol.id)).toHaveLength(1);
  });
});

describe('groups', () => {
  it('make the owner a member and list groups by name', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const zebra = store.createGroup('Zebra', 'zebra', ali.id, 5);
    const apple = store.createGroup('apple', 'apple', bob.id, 6);
    expect(zebra).toEqual({ id: zebra.id, name: 'Zebra', nameKey: 'zebra', ownerId: ali.id, createdAt: 5 });
    expect(store.groupById(zebra.id)).toEqual(zebra);
    expect(store.groupByKey('apple')).toEqual(apple);
    expect(store.memberIds(zebra.id)).toEqual([ali.id]);
    expect(store.isMember(zebra.id, ali.id)).toBe(true);
    expect(store.isMember(zebra.id, bob.id)).toBe(false);

    store.addMember(zebra.id, bob.id);
    store.addMember(zebra.id, bob.id);
    expect(store.memberIds(zebra.id)).toEqual([ali.id, bob.id]);
    expect(store.groupsOf(bob.id).map((group) => group.name)).toEqual(['apple', 'Zebra']);
    expect(store.groupsOf(ali.id).map((group) => group.name)).toEqual(['Zebra']);

    store.removeMember(zebra.id, bob.id);
    expect(store.groupsOf(bob.id).map((group) => group.name)).toEqual(['apple']);
  });

  it('refuse a taken name key on create and rename with StoreConflictError', () => {
    const ali = addUser('Ali');
    const team = store.createGroup('Team', 'team', ali.id, 1);
    const other = store.createGroup('Other', 'other', ali.id, 1);
    expect(() => store.createGroup('TEAM', 'team', ali.id, 2)).toThrow(StoreConflictError);
    expect(() => store.renameGroup(other.id, 'Team', 'team')).toThrow(StoreConflictError);
    expect(store.groupById(other.id)?.name).toBe('Other');
    expect(store.groupsOf(ali.id)).toHaveLength(2);

    store.renameGroup(team.id, 'TEAM', 'team');
    store.renameGroup(other.id, 'Crew', 'crew');
    expect(store.groupsOf(ali.id).map((group) => group.name)).toEqual(['Crew', 'TEAM']);
  });

  it('are deleted with their members and messages, and their id is not reused', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const team = store.createGroup('Team', 'team', ali.id, 1);
    store.addMember(team.id, bob.id);
    send(groupMessage(bob, team.id, 'secret'));
    store.deleteGroup(team.id);
    expect(store.groupById(team.id)).toBeUndefined();
    expect(store.memberIds(team.id)).toEqual([]);
    expect(store.groupsOf(bob.id)).toEqual([]);
    expect(store.history(groupConversation(team.id), undefined, 10).messages).toEqual([]);
    expect(store.sync(bob.id, 0, 10).messages).toEqual([]);
    const again = store.createGroup('Team', 'team', ali.id, 2);
    expect(again.id).not.toBe(team.id);
  });
});

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
