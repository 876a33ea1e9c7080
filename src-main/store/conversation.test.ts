import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it, vi } from 'vitest';
import { ROOM } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { seededRandom } from '../testing/prng.js';
import { NotReadable, OverDailyQuota } from './readers.js';
import {
  addUser,
  addUsers,
  directMessage,
  expectSearchIndexInStep,
  file,
  forEachBackend,
  groupMessage,
  reopen,
  roomMessage,
  rowCounts,
  searchTexts,
  send,
  store,
  stored,
} from './test-store.js';

forEachBackend((backend) => {
  /** Every byte SQLite keeps for the database: the file, its WAL and shared memory. */
  function databaseBytes(): string {
    return ['', '-wal', '-shm']
      .map((suffix) => {
        try {
          return readFileSync(`${file}${suffix}`).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
  }

  describe('conversation changes in the store', () => {
    it('edit replaces the text in the search index and keeps the index in step', async () => {
      const ann = await addUser('ann');
      const message = await send(roomMessage(ann, 'meet at the harbour'));
      const { message: edited, eventId } = await store.editMessage(message.id, 'meet at the station', 5000);
      expect(edited).toMatchObject({ id: message.id, text: 'meet at the station', editedAt: 5000 });
      expect(eventId).toBeGreaterThan(0);
      expect(await searchTexts(ann.id, 'harbour')).toEqual([]);
      expect(await searchTexts(ann.id, 'station')).toEqual(['meet at the station']);
      await expectSearchIndexInStep();
    });

    it('delete leaves no trace of the text in the database file or its WAL, and replies quote it as deleted', async () => {
      const ann = await addUser('ann');
      const secret = 'zebra-quartz-7781 my bank code';
      const original = await send(roomMessage(ann, `${secret}\nsecond line`));
      const reply = await send({ ...roomMessage(ann, 'what was it?'), replyTo: original.id });
      expect(reply.replyTo).toEqual({ id: original.id, from: 'ann', snippet: secret });
      await store.deleteMessage(original.id);
      await store.purgeDeleted();
      // PostgreSQL's files are its own: old row versions go at VACUUM (pg/store.ts, purgeDeleted).
      if (backend === 'sqlite') expect(databaseBytes()).not.toContain('zebra-quartz');
      expect((await store.messageById(reply.id))!.replyTo).toEqual({ id: original.id, from: 'ann', snippet: '', deleted: true });
      expect(await store.messageById(original.id)).toMatchObject({ text: '', deleted: true });
      expect(await searchTexts(ann.id, 'zebra')).toEqual([]);
      await expectSearchIndexInStep();
    });

    it.runIf(backend === 'sqlite')('a delete empties the WAL off the event loop, waiting for a reader on an older snapshot without blocking', async () => {
      const ann = await addUser('ann');
      const original = await send(roomMessage(ann, 'walrus-9931 the door code'));
      // A search worker mid-statement: its snapshot keeps the log from being emptied.
      const reader = new Database(file, { readonly: true });
      const rows = reader.prepare('SELECT id FROM messages').iterate();
      rows.next();
      await store.deleteMessage(original.id);
      let ticks = 0;
      const ticking = setInterval(() => (ticks += 1), 5);
      let settled = false;
      const purged = store.purgeDeleted().then(() => (settled = true));
      try {
        await vi.waitFor(() => expect(ticks).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
        expect(settled).toBe(false);
        expect(databaseBytes()).toContain('walrus-9931');
      } finally {
        clearInterval(ticking);
        rows.return!();
        reader.close();
      }
      await purged;
      expect(databaseBytes()).not.toContain('walrus-9931');
    });

    it('mentions only people who can read the conversation, as their names are spelt', async () => {
      const [ann, bob, cem] = [await addUser('Ann'), await addUser('bob.k'), await addUser('cem')];
      expect((await send(roomMessage(ann, 'hi @BOB.K. and @cem, not @nobody'))).mentions).toEqual(['bob.k', 'cem']);
      const dm = await send(directMessage(ann, bob, '@cem @bob.k look'));
      expect(dm.mentions).toEqual(['bob.k']);
      expect((await store.messageById(dm.id))!.mentions).toEqual(['bob.k']);
      expect((await send(roomMessage(cem, 'mail me at x@cem.org'))).mentions).toBeUndefined();
    });

    it('reactions toggle per user and emoji, ordered by the oldest one standing, up to the limit per user', async () => {
      const [ann, bob] = [await addUser('ann'), await addUser('bob')];
      const message = await send(roomMessage(ann, 'lunch?'));
      expect(await store.setReaction(message.id, bob.id, '👍', true)).toMatchObject({ message: { reactions: [{ emoji: '👍', users: ['bob'] }] } });
      expect(await store.setReaction(message.id, bob.id, '👍', true)).toBe('unchanged');
      await store.setReaction(message.id, ann.id, '🎉', true);
      await store.setReaction(message.id, ann.id, '👍', true);
      expect((await store.messageById(message.id))!.reactions).toEqual([
        { emoji: '👍', users: ['bob', 'ann'] },
        { emoji: '🎉', users: ['ann'] },
      ]);
      // Bob's 👍 was the first; ann's came after her 🎉.
      expect(await store.setReaction(message.id, bob.id, '👍', false)).toMatchObject({
        message: { reactions: [{ emoji: '🎉', users: ['ann'] }, { emoji: '👍', users: ['ann'] }] },
      });
      expect(await store.setReaction(message.id, bob.id, '👍', false)).toBe('unchanged');
      const many = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗'];
      for (const emoji of many) expect(await store.setReaction(message.id, bob.id, emoji, true)).not.toBe('limit');
      expect(await store.setReaction(message.id, bob.id, '🤔', true)).toBe('limit');
    });

    it('read positions only move forward, stop at the last message, and give the unread counts', async () => {
      const [ann, bob] = [await addUser('ann'), await addUser('bob')];
      const first = await send(roomMessage(ann, 'one'));
      await send(roomMessage(ann, 'two @bob'));
      const last = await send(roomMessage(bob, 'three'));
      expect(await store.readStates(bob.id)).toEqual([{ conv: ROOM, upTo: 0, unread: 2, mentions: 1 }]);
      expect((await store.setReadPosition(bob.id, ROOM, first.id)).upTo).toBe(first.id);
      expect(await store.setReadPosition(bob.id, ROOM, 0)).toEqual({ upTo: first.id });
      expect(await store.readStates(bob.id)).toEqual([{ conv: ROOM, upTo: first.id, unread: 1, mentions: 1 }]);
      expect((await store.setReadPosition(bob.id, ROOM, last.id + 100)).upTo).toBe(last.id);
      expect(await store.readStates(bob.id)).toEqual([{ conv: ROOM, upTo: last.id, unread: 0, mentions: 0 }]);
    });

    it('the event log keeps one change per message and one position per reader, in order, across a reopen', async () => {
      const [ann, bob, cem] = [await addUser('ann'), await addUser('bob'), await addUser('cem')];
      const start = await store.lastEventId();
      const hello = await send(roomMessage(ann, 'hello'));
      const dm = stored((await store.insertMessages([directMessage(ann, bob, 'psst')]))[0]!);
      await store.editMessage(hello.id, 'hello all', 6000);
      await store.setReaction(hello.id, bob.id, '👋', true);
      await store.setReadPosition(bob.id, dm.message.conv, dm.message.id);
      await store.setReadPosition(ann.id, ROOM, hello.id);
      await reopen();
      const ofBob = (await store.events(bob.id, start, 50)).events;
      expect(ofBob.map((event) => event.kind)).toEqual(['message', 'message', 'reaction', 'read']);
      expect(ofBob[0]).toMatchObject({ kind: 'message', message: { text: 'hello all', reactions: [{ emoji: '👋', users: ['bob'] }] } });
      expect(ofBob[3]).toMatchObject({ kind: 'read', user: 'bob', upTo: dm.message.id });
      // cem cannot read the DM, nor anyone's position in the room.
      expect((await store.events(cem.id, start, 50)).events.map((event) => event.kind)).toEqual(['message', 'reaction']);
      // Paging gives the same entries.
      const firstPage = await store.events(bob.id, start, 2);
      expect(firstPage.hasMore).toBe(true);
      expect([...firstPage.events, ...(await store.events(bob.id, firstPage.events.at(-1)!.eventId, 10)).events]).toEqual(ofBob);
      expect(await store.lastEventId()).toBeGreaterThanOrEqual(ofBob.at(-1)!.eventId);
    });

    it('reads a range of the log for many readers at once exactly as each reads it alone', async () => {
      const random = seededRandom(32);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const users = await addUsers('ann', 'bob', 'cem', 'dua', 'eda', 'fay');
      const groups = [await store.createGroup('One', 'one', users[0].id, 1), await store.createGroup('Two', 'two', users[1].id, 1)];
      const members = new Map(groups.map((group) => [group.id, new Set([group.ownerId])]));
      const start = await store.lastEventId();
      const sent: ChatMessage[] = [];
      // Messages of every kind, membership changes, edits, deletes, reactions, read positions and receipts switched.
      for (let step = 0; step < 160; step++) {
        const roll = random();
        const user = pick(users);
        const group = pick(groups);
        if (roll < 0.1 && user.id !== group.ownerId) {
          if (members.get(group.id)!.delete(user.id)) await store.removeMember(group.id, user.id);
          else {
            members.get(group.id)!.add(user.id);
            await store.addMember(group.id, user.id);
          }
        } else if (roll < 0.15) await store.setSendReadReceipts(user.id, random() < 0.5);
        else if (roll < 0.3 && sent.length > 0) {
          const message = pick(sent);
          const change = random();
          if (change < 0.3) await store.editMessage(message.id, `edited ${step}`, 5000 + step);
          else if (change < 0.4) await store.deleteMessage(message.id);
          else if (change < 0.7) await store.setReaction(message.id, user.id, pick(['👍', '🎉']), random() < 0.7);
          else await store.setReadPosition(user.id, message.conv, message.id);
        } else if (roll < 0.55) sent.push(await send(roomMessage(user, `room ${step}`)));
        else if (roll < 0.8) sent.push(await send(directMessage(user, pick(users.filter((other) => other !== user)), `dm ${step}`)));
        else if (members.get(group.id)!.has(user.id)) sent.push(await send(groupMessage(user, group.id, `group ${step}`)));
      }
      const end = (await store.lastEventId()) + 1;
      const ids = users.map((user) => user.id);
      for (let range = 0; range < 30; range++) {
        const after = start + Math.floor(random() * (end - start));
        const below = after + 1 + Math.floor(random() * (end - after));
        const together = await store.eventsOfUsers(ids, after, below);
        for (const user of users) {
          const alone = (await store.events(user.id, after, below - after)).events.filter((event) => event.eventId < below);
          expect(together.get(user.id) ?? [], `${user.name} in (${after}, ${below})`).toEqual(alone);
        }
      }
      // Only the users asked about are answered.
      const [ann] = users;
      expect([...(await store.eventsOfUsers([ann.id], start, end)).keys()]).toEqual([ann.id]);
    });

    it('makes a change for a reader only if they can still read the conversation as it commits', async () => {
      const [ann, bob] = [await addUser('ann'), await addUser('bob')];
      const group = await store.createGroup('Team', 'team', ann.id, 1);
      await store.addMember(group.id, bob.id);
      const mine = await send(groupMessage(bob, group.id, 'mine'));
      const hers = await send(groupMessage(ann, group.id, 'hers'));
      const before = await store.lastEventId();
      await store.removeMember(group.id, bob.id);
      await expect(store.editMessage(mine.id, 'changed', 6000, bob.id)).rejects.toThrow(NotReadable);
      await expect(store.deleteMessage(mine.id, bob.id)).rejects.toThrow(NotReadable);
      await expect(store.setReaction(hers.id, bob.id, '👍', true, bob.id)).rejects.toThrow(NotReadable);
      await expect(store.setReadPosition(bob.id, hers.conv, hers.id, bob.id)).rejects.toThrow(NotReadable);
      const kept = (await store.messageById(mine.id))!;
      expect([kept.text, kept.deleted ?? false]).toEqual(['mine', false]);
      expect((await store.messageById(hers.id))!.reactions).toBeUndefined();
      expect(await store.lastEventId()).toBe(before);
      // The owner still can; a deleted group's message is gone for everyone.
      expect((await store.setReaction(hers.id, ann.id, '👍', true, ann.id)) as unknown).toMatchObject({ message: { id: hers.id } });
      await store.deleteGroup(group.id);
      await expect(store.editMessage(hers.id, 'gone', 7000, ann.id)).rejects.toThrow(NotReadable);
    });

    it('counts an author’s edit toward the daily quota, and refuses one past it without a change', async () => {
      await reopen({ maxUserBytesPerDay: 20 });
      const ann = await addUser('ann');
      const message = await send(roomMessage(ann, 'ten bytes!'));
      const ts = message.ts + 1;
      await store.editMessage(message.id, 'ten again!', ts, ann.id);
      const refused = store.editMessage(message.id, 'one more byte', ts, ann.id);
      await expect(refused).rejects.toBeInstanceOf(OverDailyQuota);
      await expect(refused).rejects.toMatchObject({ limit: 20 });
      expect((await store.messageById(message.id))!.text).toBe('ten again!');
    });

    it('tells the database’s clock, which the nodes of a room count stored times from', async () => {
      const before = Date.now();
      const now = await store.databaseTime();
      // The test's database runs on this machine, whose clock it shares.
      expect(now).toBeGreaterThanOrEqual(before - 1000);
      expect(now).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('others see a reader’s position in a DM only while that reader sends read receipts', async () => {
      const [ann, bob] = [await addUser('ann'), await addUser('bob')];
      const dm = await send(directMessage(ann, bob, 'seen?'));
      const start = await store.lastEventId();
      await store.setReadPosition(bob.id, dm.conv, dm.id);
      expect(await store.receipts(dm.conv, ann.id)).toEqual([{ user: 'bob', upTo: dm.id }]);
      expect((await store.events(ann.id, start, 10)).events).toHaveLength(1);
      await store.setSendReadReceipts(bob.id, false);
      expect(await store.sendsReadReceipts(bob.id)).toBe(false);
      expect(await store.receipts(dm.conv, ann.id)).toEqual([]);
      expect((await store.events(ann.id, start, 10)).events).toEqual([]);
    });

    it('forgets a deleted group’s log, reactions, mentions and read positions with it', async () => {
      const [ann, bob] = [await addUser('ann'), await addUser('bob')];
      const group = await store.createGroup('Team', 'team', ann.id, 1);
      await store.addMember(group.id, bob.id);
      const message = await send(groupMessage(ann, group.id, 'hi @bob'));
      await store.setReaction(message.id, bob.id, '👍', true);
      await store.setReadPosition(bob.id, message.conv, message.id);
      await store.deleteGroup(group.id);
      expect(await rowCounts(['conv_events', 'reactions', 'mentions', 'read_cursors'])).toEqual([0, 0, 0, 0]);
    });

  describe('messages read again after they changed', () => {
    /** Each message as a catch-up (events) and as history show it now, by id; they must agree. */
    async function readNow(userId: number): Promise<Map<number, unknown>> {
      const fromEvents = new Map((await store.events(userId, 0, 100)).events.flatMap((event) => ('message' in event ? [[event.message.id, event.message]] : [])));
      const fromHistory = new Map((await store.history(ROOM, undefined, 100)).messages.map((message) => [message.id, message]));
      expect(fromHistory).toEqual(fromEvents);
      return fromHistory;
    }

    it('shows every edit, delete, reaction and mention as it is now, and replies quote their original as it is now', async () => {
      const [ann, bob, cal] = await addUsers('ann', 'bob', 'cal');
      const original = await send(roomMessage(ann, 'meet at noon'));
      const reply = await send({ ...roomMessage(bob, 'which door?'), replyTo: original.id });
      const toCal = await send(roomMessage(bob, 'and you @cal'));
      await readNow(ann.id);

      await store.editMessage(original.id, 'meet at one, @bob', 5000);
      let now = await readNow(ann.id);
      expect(now.get(original.id)).toMatchObject({ text: 'meet at one, @bob', editedAt: 5000, mentions: ['bob'] });
      expect(now.get(reply.id)).toMatchObject({ replyTo: { id: original.id, from: 'ann', snippet: 'meet at one, @bob' } });

      await store.setReaction(original.id, bob.id, '👍', true);
      expect((await readNow(ann.id)).get(original.id)).toMatchObject({ reactions: [{ emoji: '👍', users: ['bob'] }] });
      await store.setReaction(original.id, bob.id, '👍', false);
      expect((await readNow(ann.id)).get(original.id)).not.toHaveProperty('reactions');

      await store.editMessage(original.id, 'meet at one', 6000);
      expect((await readNow(ann.id)).get(original.id)).not.toHaveProperty('mentions');

      // An account that never wrote goes, and with it the mentions of it in others' messages.
      expect((await readNow(ann.id)).get(toCal.id)).toMatchObject({ mentions: ['cal'] });
      expect(await store.deleteSilentAccounts([cal.id])).toEqual([cal.id]);
      expect((await readNow(ann.id)).get(toCal.id)).not.toHaveProperty('mentions');

      await store.deleteMessage(original.id);
      now = await readNow(ann.id);
      expect(now.get(original.id)).toMatchObject({ text: '', deleted: true });
      expect(now.get(reply.id)).toMatchObject({ replyTo: { id: original.id, from: 'ann', snippet: '', deleted: true } });
    });

    it('quotes the original as it is now in a reply read alone before the original changed', async () => {
      const ann = await addUser('ann');
      const original = await send(roomMessage(ann, 'meet at noon'));
      const reply = await send({ ...roomMessage(ann, 'which door?'), replyTo: original.id });
      const replyAlone = async () => (await store.history(ROOM, reply.id + 1, 1)).messages;
      expect(await replyAlone()).toMatchObject([{ id: reply.id, replyTo: { snippet: 'meet at noon' } }]);
      await store.editMessage(original.id, 'meet at one', 5000);
      expect(await replyAlone()).toMatchObject([{ id: reply.id, replyTo: { snippet: 'meet at one' } }]);
    });

    it('shows nothing of a change that was rolled back, though it was read inside its transaction', async () => {
      const ann = await addUser('ann');
      const message = await send(roomMessage(ann, 'as it was'));
      await expect(
        store.changeGroups(7, async (tx) => {
          await tx.editMessage(message.id, 'never stored', 5000);
          expect((await tx.history(ROOM, undefined, 10)).messages[0]).toMatchObject({ text: 'never stored' });
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect((await readNow(ann.id)).get(message.id)).toMatchObject({ text: 'as it was' });
      expect((await readNow(ann.id)).get(message.id)).not.toHaveProperty('editedAt');
    });
  });
  });
});
