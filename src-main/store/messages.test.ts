import { describe, expect, it } from 'vitest';
import { dmConversation, ROOM } from '../../src-shared/protocol/conversation.js';
import { addUser, stored, directMessage, groupMessage, reopen, roomMessage, rowCounts, searchTexts, send, store, texts, forEachBackend } from './test-store.js';

forEachBackend(() => {
  describe('storing messages', () => {
    it('returns each kind of message with only the fields that apply', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const group = await store.createGroup('Ekip', 'ekip', ali.id, 1);
      expect(await store.lastMessageId()).toBe(0);

      const room = (await store.insertMessages([{ conv: ROOM, senderId: ali.id, clientMsgId: 'r1', text: 'hi all', ts: 11 }])).map(stored)[0]!;
      expect(room).toEqual({
        duplicate: false,
        eventId: 1,
        message: { id: 1, conv: 'room', from: 'Ali', text: 'hi all', ts: 11, clientMsgId: 'r1' },
      });
      expect(Object.keys(room.message)).not.toContain('to');
      expect(Object.keys(room.message)).not.toContain('groupId');

      const direct = await send({ ...directMessage(bob, ali, 'hi Ali'), clientMsgId: 'd1', ts: 12 });
      expect(direct).toEqual({ id: 2, conv: dmConversation(ali.id, bob.id), from: 'Bob', to: 'Ali', text: 'hi Ali', ts: 12, clientMsgId: 'd1' });
      expect(Object.keys(direct)).not.toContain('groupId');

      const inGroup = await send({ ...groupMessage(ali, group.id, 'hi team'), clientMsgId: 'g1', ts: 13 });
      expect(inGroup).toEqual({ id: 3, conv: `group:${group.id}`, from: 'Ali', groupId: group.id, text: 'hi team', ts: 13, clientMsgId: 'g1' });
      expect(Object.keys(inGroup)).not.toContain('to');

      const reply = await send({ ...roomMessage(bob, 'yes @ali'), replyTo: room.message.id });
      expect(reply).toMatchObject({ replyTo: { id: room.message.id, from: 'Ali', snippet: 'hi all' }, mentions: ['Ali'] });

      // What a later read returns is exactly what the insert returned.
      expect((await store.sync(ali.id, 0, 10)).messages).toEqual([room.message, direct, inGroup, reply]);
      expect(await store.lastMessageId()).toBe(4);
    });

    it('records both sides of each direct conversation, also after a transaction that stored its first message was rolled back', async () => {
      const [alice, bob] = [await addUser('alice'), await addUser('bob')];
      const failed = store.changeGroups(1, async (tx) => {
        await tx.insertMessages([directMessage(alice, bob, 'gone with the rollback')]);
        throw new Error('rolled back');
      });
      await expect(failed).rejects.toThrow('rolled back');
      expect(await rowCounts(['dm_partners'])).toEqual([0]);
      await store.insertMessages([directMessage(alice, bob, 'kept')]);
      await store.insertMessages([directMessage(bob, alice, 'and answered')]);
      expect(await rowCounts(['dm_partners'])).toEqual([2]);
      // What tells that bob, who received before he wrote, is no silent account (deleted with his messages' foreign keys off).
      expect(await store.silentAccounts(0, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    });

    it('returns the stored message for a repeated (sender, clientMsgId) and stores nothing', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const first = (await store.insertMessages([{ conv: ROOM, senderId: ali.id, clientMsgId: 'same', text: 'first', ts: 1 }])).map(stored)[0]!;
      const again = (await store.insertMessages([{ conv: ROOM, senderId: ali.id, clientMsgId: 'same', text: 'second', ts: 2 }])).map(stored)[0]!;
      expect(again).toEqual({ message: first.message, duplicate: true });
      expect(await store.messageByClientId(ali.id, 'same')).toEqual(first.message);
      expect(await store.messageByClientId(bob.id, 'same')).toBeUndefined();
      expect(await store.lastMessageId()).toBe(first.message.id);
      expect(await searchTexts(ali.id, 'second')).toEqual([]);

      const otherSender = (await store.insertMessages([{ conv: ROOM, senderId: bob.id, clientMsgId: 'same', text: 'bob', ts: 3 }])).map(stored)[0]!;
      expect(otherSender.duplicate).toBe(false);
      expect(texts((await store.history(ROOM, undefined, 10)).messages)).toEqual(['first', 'bob']);
    });

    it('keeps a NUL, U+FFFE and U+FFFF in text and client id exactly, and recognises a resend by that id', async () => {
      const ali = await addUser('Ali');
      const text = 'a\0b\uFFFE\uFFFF\0';
      const clientMsgId = 'id\0\uFFFF';
      const first = await send({ ...roomMessage(ali, text), clientMsgId });
      expect(first).toMatchObject({ text, clientMsgId });
      const again = stored((await store.insertMessages([{ ...roomMessage(ali, 'other'), clientMsgId }]))[0]!);
      expect(again).toEqual({ message: first, duplicate: true });
      expect((await store.history(ROOM, undefined, 10)).messages).toEqual([first]);
      expect(await store.messageByClientId(ali.id, clientMsgId)).toEqual(first);
      expect(await store.messageByClientId(ali.id, 'id\0')).toBeUndefined();
    });

    it('stores a batch in order and recognises duplicates within it', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      await send({ ...roomMessage(ali, 'before'), clientMsgId: 'x' });
      const results = (await store.insertMessages([
        { ...roomMessage(ali, 'one'), clientMsgId: 'a' },
        { ...directMessage(bob, ali, 'two'), clientMsgId: 'b' },
        { ...roomMessage(ali, 'one again'), clientMsgId: 'a' },
        { ...roomMessage(ali, 'old one'), clientMsgId: 'x' },
        { ...roomMessage(bob, 'three'), clientMsgId: 'a' },
      ])).map(stored);
      expect(results.map((result) => [result.message.text, result.duplicate])).toEqual([
        ['one', false],
        ['two', false],
        ['one', true],
        ['before', true],
        ['three', false],
      ]);
      expect(results[2]!.message).toEqual(results[0]!.message);
      expect(await searchTexts(ali.id, 'one')).toEqual(['one']);
      expect(await searchTexts(ali.id, 'three')).toEqual(['three']);
    });

    it('gives each new message of a batch its entry in the event log, after every earlier entry and before every later one, and a resend none', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const first = await send(roomMessage(ali, 'first'));
      await store.editMessage(first.id, 'first, edited', 5);
      const start = await store.lastEventId();
      const results = (await store.insertMessages([
        { ...roomMessage(ali, 'one'), clientMsgId: 'a' },
        { ...directMessage(bob, ali, 'two'), clientMsgId: 'b' },
        { ...roomMessage(ali, 'one again'), clientMsgId: 'a' },
        { ...directMessage(ali, bob, 'three'), clientMsgId: 'c' },
      ])).map(stored);
      // Event ids increase with gaps (docs/PROTOCOL.md §17.8): messages and other entries share them.
      const [one, two, resend, three] = results.map((result) => result.eventId);
      expect(resend).toBeUndefined();
      expect(start < one! && one! < two! && two! < three!).toBe(true);
      const edit = await store.editMessage(results[0]!.message.id, 'one, edited', 6);
      expect(edit.eventId).toBeGreaterThan(three!);
      const later = await store.insertMessages([{ ...roomMessage(ali, 'four'), clientMsgId: 'd' }]);
      expect(stored(later[0]!).eventId).toBeGreaterThan(edit.eventId);
      expect(await store.lastEventId()).toBe(stored(later[0]!).eventId);
      const logged = (await store.events(ali.id, start, 10)).events;
      expect(logged.map((event) => [event.eventId, event.kind, event.kind !== 'read' && event.message.text])).toEqual([
        [one, 'message', 'one, edited'],
        [two, 'message', 'two'],
        [three, 'message', 'three'],
        [edit.eventId, 'edit', 'one, edited'],
        [stored(later[0]!).eventId, 'message', 'four'],
      ]);
    });

    it('stores nothing of a batch when one message fails', async () => {
      const ali = await addUser('Ali');
      await expect(
        store.insertMessages([roomMessage(ali, 'good'), { ...roomMessage(ali, 'unknown sender'), senderId: 999 }]),
      ).rejects.toThrow(/foreign key constraint/i);
      expect(await store.lastMessageId()).toBe(0);
      expect(await searchTexts(ali.id, 'good')).toEqual([]);
    });

    it('refuses a conversation key that does not match sender, recipient and group', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const carol = await addUser('Carol');
      await expect(send({ ...directMessage(ali, bob, 'x'), conv: dmConversation(ali.id, carol.id) })).rejects.toThrow(/check constraint/i);
      await expect(send({ ...directMessage(ali, bob, 'x'), conv: ROOM })).rejects.toThrow(/check constraint/i);
      await expect(send({ ...roomMessage(ali, 'x'), conv: 'group:1' })).rejects.toThrow(/check constraint/i);
      const group = await store.createGroup('Ekip', 'ekip', ali.id, 1);
      await expect(send({ ...groupMessage(ali, group.id, 'x'), conv: 'group:999' })).rejects.toThrow(/check constraint/i);
      expect(await store.lastMessageId()).toBe(0);
    });

    it('never hands out an id again, even after the newest messages are deleted', async () => {
      const ali = await addUser('Ali');
      const group = await store.createGroup('Ekip', 'ekip', ali.id, 1);
      await send(roomMessage(ali, 'room'));
      const last = await send(groupMessage(ali, group.id, 'in group'));
      await store.deleteGroup(group.id);
      await reopen();
      expect((await send(roomMessage(ali, 'next'))).id).toBe(last.id + 1);
    });
  });

  describe('who may write, decided as the batch stores', () => {
    it('refuses a group message from a non-member, a DM to someone who declined, and a banned sender, storing the rest with the group as readers', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const cem = await addUser('Cem');
      const dan = await addUser('Dan');
      const group = await store.createGroup('Ekip', 'ekip', ali.id, 1);
      await store.addMember(group.id, bob.id);
      await store.setRelation(ali.id, cem.id, 'declined', ali.id, 1);
      await store.addBan('name', 'dan', 1);
      const results = await store.insertMessages([
        groupMessage(bob, group.id, 'in'),
        groupMessage(cem, group.id, 'not a member'),
        directMessage(ali, cem, 'declined'),
        roomMessage(dan, 'banned'),
      ]);
      expect(results.map((result) => ('notAllowed' in result ? result.notAllowed : 'stored'))).toEqual(['stored', 'group', 'declined', 'banned']);
      expect(stored(results[0]!).readers).toEqual([ali.id, bob.id].sort((a, b) => a - b));
      expect(texts((await store.history(`group:${group.id}`, undefined, 10)).messages)).toEqual(['in']);
      expect(await store.lastMessageId()).toBe(stored(results[0]!).message.id);
    });
  });

  describe('the daily quota of a user', () => {
    const DAY = 86_400_000;
    it('refuses what would pass it, counting UTF-8 bytes per UTC day, and still recognises a resend', async () => {
      await reopen({ maxUserBytesPerDay: 10 });
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const at = async (ts: number, sender = ali, text = 'hello', clientMsgId = `q${ts}${text}`) =>
        (await store.insertMessages([{ conv: ROOM, senderId: sender.id, clientMsgId, text, ts }]))[0]!;
      const morning = 3 * DAY + 1000;
      expect(stored(await at(morning)).duplicate).toBe(false);
      expect(stored(await at(morning + 1, ali, 'şş')).duplicate).toBe(false);
      expect(await at(morning + 2, ali, 'ab')).toEqual({ overDailyQuota: { limit: 10, retryAfterMs: DAY - 1002 } });
      expect(stored(await at(morning + 3, ali, 'a')).duplicate).toBe(false);
      expect(stored(await at(morning + 4, ali, 'hello', `q${morning}hello`))).toMatchObject({ duplicate: true, message: { ts: morning } });
      expect(stored(await at(morning + 5, bob)).duplicate).toBe(false);
      expect(stored(await at(4 * DAY, ali, 'next day')).duplicate).toBe(false);
      await reopen({ maxUserBytesPerDay: 10 });
      expect(await at(4 * DAY + 1, ali, 'abc')).toMatchObject({ overDailyQuota: { limit: 10 } });
      expect(texts((await store.history(ROOM, undefined, 10)).messages)).toEqual(['hello', 'şş', 'a', 'hello', 'next day']);
    });
    it('counts every message of a batch against it, and keeps the count across a reopen', async () => {
      await reopen({ maxUserBytesPerDay: 10 });
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const day = 5 * DAY;
      const message = (sender: typeof ali, text: string, ts: number) => ({ conv: ROOM, senderId: sender.id, clientMsgId: `b${ts}`, text, ts });
      const results = await store.insertMessages([
        message(ali, 'hello', day + 1),
        message(ali, 'hello!', day + 2),
        message(bob, 'hello', day + 3),
        message(ali, 'abcde', day + 4),
        message(ali, 'x', day + 5),
        message(ali, 'x', 2 * day),
        message(ali, 'hello', day + 1),
      ]);
      expect(results.map((result) => ('overDailyQuota' in result ? 'over' : stored(result).duplicate ? 'again' : 'stored'))).toEqual([
        'stored',
        'over',
        'stored',
        'stored',
        'over',
        'stored',
        'again',
      ]);
      await reopen({ maxUserBytesPerDay: 10 });
      expect(await store.insertMessages([message(ali, 'y', day + 6)])).toMatchObject([{ overDailyQuota: { limit: 10 } }]);
      expect(stored((await store.insertMessages([message(bob, 'world', day + 7)]))[0]!).duplicate).toBe(false);
    });
  });

  describe('history', () => {
    it('pages backwards through one conversation, each page oldest first', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const roomIds: number[] = [];
      for (let i = 1; i <= 25; i++) {
        roomIds.push((await send(roomMessage(ali, `room ${i}`))).id);
        await send(directMessage(ali, bob, `dm ${i}`));
      }

      const latest = await store.history(ROOM, undefined, 10);
      expect(texts(latest.messages)).toEqual(Array.from({ length: 10 }, (_, i) => `room ${16 + i}`));
      expect(latest.hasMore).toBe(true);

      const older = await store.history(ROOM, latest.messages[0]!.id, 10);
      expect(texts(older.messages)).toEqual(Array.from({ length: 10 }, (_, i) => `room ${6 + i}`));
      expect(older.hasMore).toBe(true);

      const oldest = await store.history(ROOM, older.messages[0]!.id, 10);
      expect(texts(oldest.messages)).toEqual(['room 1', 'room 2', 'room 3', 'room 4', 'room 5']);
      expect(oldest.hasMore).toBe(false);

      // Exactly `limit` messages left: no more after them.
      const exact = await store.history(ROOM, roomIds[10], 10);
      expect(exact.messages).toHaveLength(10);
      expect(exact.hasMore).toBe(false);

      expect(texts((await store.history(dmConversation(ali.id, bob.id), undefined, 2)).messages)).toEqual(['dm 24', 'dm 25']);
      expect(await store.history('group:99', undefined, 10)).toEqual({ messages: [], hasMore: false });
    });
  });

  // ---------------------------------------------------------------- visibility: sync and search

  describe('sync', () => {
    it('returns the room, own direct messages both ways and current groups, oldest first', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const carol = await addUser('Carol');
      const team = await store.createGroup('Team', 'team', bob.id, 1);
      const secret = await store.createGroup('Secret', 'secret', bob.id, 1);
      await store.addMember(team.id, ali.id);

      await send(roomMessage(bob, 'room 1'));
      await send(directMessage(ali, bob, 'ali to bob'));
      await send(directMessage(carol, ali, 'carol to ali'));
      await send(directMessage(bob, carol, 'bob to carol'));
      await send(groupMessage(bob, team.id, 'team 1'));
      await send(groupMessage(bob, secret.id, 'secret 1'));
      await send(roomMessage(carol, 'room 2'));

      expect(texts((await store.sync(ali.id, 0, 50)).messages)).toEqual(['room 1', 'ali to bob', 'carol to ali', 'team 1', 'room 2']);
      expect(texts((await store.sync(carol.id, 0, 50)).messages)).toEqual(['room 1', 'carol to ali', 'bob to carol', 'room 2']);

      await store.removeMember(team.id, ali.id);
      expect(texts((await store.sync(ali.id, 0, 50)).messages)).toEqual(['room 1', 'ali to bob', 'carol to ali', 'room 2']);
      await store.addMember(secret.id, ali.id);
      expect(texts((await store.sync(ali.id, 0, 50)).messages)).toContain('secret 1');
    });

    it('pages forwards with after and hasMore', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      for (let i = 1; i <= 7; i++) {
        await send(roomMessage(bob, `room ${i}`));
        await send(directMessage(bob, ali, `dm ${i}`));
      }
      const seen: string[] = [];
      let after = 0;
      let pages = 0;
      for (;;) {
        const page = await store.sync(ali.id, after, 4);
        pages++;
        seen.push(...texts(page.messages));
        if (!page.hasMore) break;
        after = page.messages.at(-1)!.id;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => [`room ${i + 1}`, `dm ${i + 1}`]).flat());
      expect(await store.sync(ali.id, await store.lastMessageId(), 4)).toEqual({ messages: [], hasMore: false });
    });
  });
});
