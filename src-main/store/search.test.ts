import { beforeEach, describe, expect, it } from 'vitest';
import { dmConversation, groupConversation, ROOM } from '../../src-shared/protocol/conversation.js';
import { type ChatMessage } from '../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../src-shared/fold.js';
import { seededRandom } from '../testing/prng.js';
import type { GroupRow, NewMessage, UserRow } from './types.js';
import {
  addUser,
  addUsers,
  directMessage,
  expectSearchIndexInStep,
  groupMessage,
  roomMessage,
  searchTexts,
  send,
  store,
  texts,
  forEachBackend,
} from './test-store.js';

forEachBackend(() => {
  describe('search', () => {
    let ali: UserRow;
    let bob: UserRow;
    beforeEach(async () => {
      ali = await addUser('Ali');
      bob = await addUser('Bob');
    });

    it('finds a part of a word anywhere, newest first', async () => {
      await send(roomMessage(bob, 'selam'));
      await send(roomMessage(bob, 'Merhaba, Selin'));
      await send(roomMessage(bob, 'hello'));
      expect(await searchTexts(ali.id, 'sel')).toEqual(['Merhaba, Selin', 'selam']);
      expect(await searchTexts(ali.id, 'SELİN')).toEqual(['Merhaba, Selin']);
    });

    it('finds one and two letters in any message that holds them', async () => {
      await send(roomMessage(bob, 'one'));
      await send(roomMessage(bob, 'two'));
      await send(roomMessage(bob, 'three'));
      await send(roomMessage(bob, 'Ödev'));
      expect(await searchTexts(ali.id, 'o')).toEqual(['Ödev', 'two', 'one']);
      expect(await searchTexts(ali.id, 'e')).toEqual(['Ödev', 'three', 'one']);
      expect(await searchTexts(ali.id, 'RE')).toEqual(['three']);
    });

    it('treats Turkish İ, I, ı and i alike, and ignores diacritics', async () => {
      const spellings = ['İSTANBUL', 'istanbul', 'Istanbul', 'ıstanbul'];
      for (const spelling of spellings) await send(roomMessage(bob, `${spelling} güzel`));
      await send(roomMessage(bob, 'Şule geldi'));
      await send(roomMessage(bob, 'café au lait'));
      for (const query of spellings) {
        expect((await searchTexts(ali.id, query)).sort(), query).toEqual(spellings.map((s) => `${s} güzel`).sort());
      }
      expect(await searchTexts(ali.id, 'sule')).toEqual(['Şule geldi']);
      expect(await searchTexts(ali.id, 'ŞULE')).toEqual(['Şule geldi']);
      expect(await searchTexts(ali.id, 'cafe')).toEqual(['café au lait']);
      expect(await searchTexts(ali.id, 'guzel')).toHaveLength(4);
    });

    it('matches several words as one phrase', async () => {
      await send(roomMessage(bob, 'Good morning everyone'));
      await send(roomMessage(bob, 'morning, good people'));
      await send(roomMessage(bob, 'good and morning'));
      expect(await searchTexts(ali.id, 'good morning')).toEqual(['Good morning everyone']);
      expect(await searchTexts(ali.id, '  GOOD MORNING  ')).toEqual(['Good morning everyone']);
    });

    it('takes full-text syntax and wildcards in the query literally', async () => {
      const samples = ['say "foo" OR bar', 'foo" OR bar', 'NEAR(a b)', 'x * y', 'a-b-c', '50%_off', 'back\\slash', "it's", 'col:umn', '^start'];
      const stored = [...samples, 'plain foo and bar'];
      for (const text of stored) await send(roomMessage(bob, text));
      for (const query of ['foo" OR bar', '"', '""', '*', 'NEAR(', '-', 'a-b', '%', '%_', '_o', '\\', "'", 'col:', '^st', 'OR', 'AND', 'NOT', '(', ')']) {
        const expected = stored.filter((text) => foldForSearch(text).includes(foldForSearch(query)));
        expect((await searchTexts(ali.id, query)).sort(), query).toEqual(expected.sort());
      }
      expect(await searchTexts(ali.id, 'foo" OR bar')).toEqual(['foo" OR bar', 'say "foo" OR bar']);
    });

    it('counts characters, not UTF-16 units, when choosing between index and scan', async () => {
      await send(roomMessage(bob, 'party 🎉🎉 time'));
      await send(roomMessage(bob, 'a🎉b'));
      expect(await searchTexts(ali.id, '🎉🎉')).toEqual(['party 🎉🎉 time']);
      expect(await searchTexts(ali.id, 'a🎉b')).toEqual(['a🎉b']);
      expect(await searchTexts(ali.id, '🎉')).toEqual(['a🎉b', 'party 🎉🎉 time']);
    });

    it('returns nothing for an empty query without a person', async () => {
      await send(roomMessage(bob, 'anything'));
      expect(await store.search(ali.id, { query: '', limit: 10 })).toEqual({ messages: [], hasMore: false });
      expect(await store.search(ali.id, { query: '   ', limit: 10 })).toEqual({ messages: [], hasMore: false });
    });

    it('pages backwards with before and hasMore', async () => {
      for (let i = 1; i <= 12; i++) await send(roomMessage(bob, `note ${i}`));
      for (const query of ['note', 'n']) {
        const first = await store.search(ali.id, { query, limit: 5 });
        expect(texts(first.messages)).toEqual(['note 12', 'note 11', 'note 10', 'note 9', 'note 8']);
        expect(first.hasMore).toBe(true);
        const second = await store.search(ali.id, { query, limit: 5, before: first.messages.at(-1)!.id });
        expect(texts(second.messages)).toEqual(['note 7', 'note 6', 'note 5', 'note 4', 'note 3']);
        const last = await store.search(ali.id, { query, limit: 5, before: second.messages.at(-1)!.id });
        expect(texts(last.messages)).toEqual(['note 2', 'note 1']);
        expect(last.hasMore).toBe(false);
      }
    });

    it("never shows other people's direct messages or groups the searcher is not in", async () => {
      const carol = await addUser('Carol');
      const secret = await store.createGroup('Secret', 'secret', bob.id, 1);
      await store.addMember(secret.id, carol.id);
      await send(directMessage(bob, carol, 'hidden plan'));
      await send(groupMessage(carol, secret.id, 'hidden group plan'));
      await send(roomMessage(bob, 'open plan'));
      for (const query of ['plan', 'hidden', 'p', '']) {
        const found = (await store.search(ali.id, { query, limit: 50, personId: bob.id })).messages;
        expect(texts(found), query).toEqual(query === 'hidden' ? [] : ['open plan']);
      }
      expect(await searchTexts(ali.id, 'plan')).toEqual(['open plan']);
      expect(await searchTexts(ali.id, 'pl')).toEqual(['open plan']);
      expect(await searchTexts(carol.id, 'plan')).toEqual(['open plan', 'hidden group plan', 'hidden plan']);
    });

    it('forgets a group for a member who was removed, in search and sync alike', async () => {
      const team = await store.createGroup('Team', 'team', bob.id, 1);
      await store.addMember(team.id, ali.id);
      await send(groupMessage(ali, team.id, 'my own words'));
      await send(groupMessage(bob, team.id, 'words from bob'));
      expect(await searchTexts(ali.id, 'words')).toEqual(['words from bob', 'my own words']);
      await store.removeMember(team.id, ali.id);
      expect(await searchTexts(ali.id, 'words')).toEqual([]);
      expect(await searchTexts(ali.id, 'w')).toEqual([]);
      expect(await searchTexts(ali.id, '', bob.id)).toEqual([]);
      expect(await searchTexts(ali.id, '', ali.id)).toEqual([]);
      expect((await store.sync(ali.id, 0, 10)).messages).toEqual([]);
      expect(await searchTexts(bob.id, 'words')).toEqual(['words from bob', 'my own words']);
    });

    it('removes the messages of a deleted group from search and from the index', async () => {
      const team = await store.createGroup('Team', 'team', bob.id, 1);
      await store.addMember(team.id, ali.id);
      await send(groupMessage(bob, team.id, 'budget draft'));
      await send(roomMessage(bob, 'budget final'));
      await store.deleteGroup(team.id);
      expect(await searchTexts(bob.id, 'budget')).toEqual(['budget final']);
      expect(await searchTexts(bob.id, 'bu')).toEqual(['budget final']);
      expect((await store.history(groupConversation(team.id), undefined, 10)).messages).toEqual([]);
      await expectSearchIndexInStep();
    });

    it('with a person: their visible messages and the direct messages between the two', async () => {
      const carol = await addUser('Carol');
      const team = await store.createGroup('Team', 'team', ali.id, 1);
      await store.addMember(team.id, bob.id);
      await send(roomMessage(bob, 'bob in room'));
      await send(directMessage(ali, bob, 'ali to bob'));
      await send(directMessage(bob, ali, 'bob to ali'));
      await send(directMessage(bob, carol, 'bob to carol'));
      await send(groupMessage(bob, team.id, 'bob in team'));
      await send(roomMessage(carol, 'carol in room'));
      await send(directMessage(ali, carol, 'ali to carol'));

      expect(await searchTexts(ali.id, '', bob.id)).toEqual(['bob in team', 'bob to ali', 'ali to bob', 'bob in room']);
      expect(await searchTexts(ali.id, 'ali', bob.id)).toEqual(['bob to ali', 'ali to bob']);
      expect(await searchTexts(ali.id, 'in', bob.id)).toEqual(['bob in team', 'bob in room']);
      expect(await searchTexts(ali.id, 'o', carol.id)).toEqual(['ali to carol', 'carol in room']);
      expect(await searchTexts(ali.id, '', ali.id)).toEqual(['ali to carol', 'ali to bob']);
    });
  });

  /**
   * Random users, groups, membership changes and messages, checked against a
   * plain model of who may see what: sync and search must agree with it exactly.
   */
  describe('visibility against a model', () => {
    // Thousands of searches, each a round trip to PostgreSQL when on it: more than the default 30 s on a loaded machine.
    it('agrees for every user, query and page size', { timeout: 120_000 }, async () => {
      const random = seededRandom(7);
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
      const users = await addUsers('Ali', 'Bob', 'Cem', 'Dila', 'Ece');
      const groups: GroupRow[] = [];
      for (const n of [0, 1, 2]) groups.push(await store.createGroup(`G${n}`, `g${n}`, users[n]!.id, 1));
      const members = new Map(groups.map((group) => [group.id, new Set([group.ownerId])]));
      const words = ['selam', 'Şule', 'İstanbul', 'kahve', 'ok', 'a', 'toplantı', 'café'];
      const stored: { message: ChatMessage; senderId: number; toUserId?: number; groupId?: number }[] = [];

      // 200 steps (~180 messages, ~16 membership changes): every kind of case the checks tell apart
      // (per user: each group's message by a member or not, seen as a member or not, own or not; each
      // direct pair; the room) occurs as at 400, in half the round trips to the store.
      for (let step = 0; step < 200; step++) {
        const roll = random();
        if (roll < 0.1) {
          const group = pick(groups);
          const user = pick(users);
          if (user.id === group.ownerId) continue;
          if (members.get(group.id)!.has(user.id)) {
            await store.removeMember(group.id, user.id);
            members.get(group.id)!.delete(user.id);
          } else {
            await store.addMember(group.id, user.id);
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
          if (!members.get(group.id)!.has(sender.id)) {
            // One who is not a member may not write there: the store refuses it and keeps nothing.
            expect(await store.insertMessages([message])).toEqual([{ notAllowed: 'group' }]);
            continue;
          }
        }
        const { toUserId, groupId } = message;
        stored.push({ message: await send(message), senderId: sender.id, toUserId, groupId });
      }

      /** Every page of a search with a small limit, checking that only the last page says it is the last. */
      const searchAllPages = async (userId: number, query: string, personId?: number): Promise<ChatMessage[]> => {
        const found: ChatMessage[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await store.search(userId, { query, limit: 3, ...(personId ? { personId } : {}), ...(before ? { before } : {}) });
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

      const check = async (user: UserRow): Promise<void> => {
        const expected = visible(user.id);
        for (const limit of [1, 7, 500]) {
          const synced: ChatMessage[] = [];
          let after = 0;
          for (;;) {
            const page = await store.sync(user.id, after, limit);
            synced.push(...page.messages);
            if (!page.hasMore) break;
            after = page.messages.at(-1)!.id;
          }
          expect(synced).toEqual(expected.map((entry) => entry.message));
        }
        for (const query of ['sel', 'İSTANBUL', 'sule', 'cafe', 'a', 'ok', 'kahve ok', 'toplanti']) {
          const needle = foldForSearch(query);
          const matches = expected.filter((entry) => foldForSearch(entry.message.text).includes(needle)).reverse();
          expect(await searchAllPages(user.id, query), `${user.name} ${query}`).toEqual(matches.map((entry) => entry.message));
          for (const person of users) {
            const withPerson = matches.filter(
              (entry) =>
                entry.senderId === person.id ||
                (entry.toUserId !== undefined && entry.message.conv === dmConversation(user.id, person.id)),
            );
            expect(await searchAllPages(user.id, query, person.id)).toEqual(withPerson.map((entry) => entry.message));
          }
        }
      };
      // The users' checks run side by side: each is a chain of round trips to the store, mostly waiting.
      await Promise.all(users.map(check));
      await expectSearchIndexInStep();
    });
  });

  describe('search over a long history', () => {
    /** 12,000 messages; every 1,000th says "quiz", the only word with a q. */
    async function fill(): Promise<{ ali: UserRow; bob: UserRow; quizzes: string[] }> {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const quizzes: string[] = [];
      const batch: NewMessage[] = [];
      for (let i = 1; i <= 12_000; i++) {
        const quiz = i % 1000 === 0;
        if (quiz) quizzes.unshift(`quiz ${i}`);
        batch.push(quiz ? roomMessage(bob, `quiz ${i}`) : roomMessage(i % 2 ? ali : bob, `lorem ipsum ${i}`));
      }
      await store.insertMessages(batch);
      return { ali, bob, quizzes };
    }

    it('yields to other work while it reads messages: for a short needle, and with a person', async () => {
      const { ali, bob } = await fill();
      // Needles that occur, so the worker reads messages: one that occurs nowhere is answered from the
      // short-needle index at once, possibly before this thread's next turn.
      for (const options of [{ query: 'q' }, { query: 'qu', personId: bob.id }]) {
        const order: string[] = [];
        // Twenty at once: one search alone may finish before this thread's next turn on a loaded machine.
        const searches = Array.from({ length: 20 }, () => store.search(ali.id, { ...options, limit: 10 }));
        const searching = Promise.all(searches).then(() => order.push('search done'));
        setImmediate(() => order.push('other work'));
        await searching;
        expect(order, options.query).toEqual(['other work', 'search done']);
      }
    });

    it('finds the same pages as one pass would, across the slices it works in', async () => {
      const { ali, bob, quizzes } = await fill();
      for (const options of [{ query: 'q' }, { query: 'QUI' }, { query: 'q', personId: bob.id }, { query: 'quiz 1', personId: bob.id }]) {
        const expected = quizzes.filter((text) => text.includes(options.query.toLowerCase()));
        const found: string[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await store.search(ali.id, { ...options, limit: 3, ...(before ? { before } : {}) });
          found.push(...texts(page.messages));
          if (!page.hasMore) break;
          before = page.messages.at(-1)!.id;
        }
        expect(found, options.query).toEqual(expected);
      }
    });
  });

  describe('search with a NUL in the query', () => {
    it('takes it as text, whatever its length', async () => {
      const ali = await addUser('Ali');
      await send(roomMessage(ali, 'a\0bcd'));
      await send(roomMessage(ali, 'abcd'));
      expect(await searchTexts(ali.id, '\0')).toEqual(['a\0bcd']);
      expect(await searchTexts(ali.id, '\0bc')).toEqual(['a\0bcd']);
      expect(await searchTexts(ali.id, 'a\0bcd')).toEqual(['a\0bcd']);
      expect(await searchTexts(ali.id, 'bcd')).toEqual(['abcd', 'a\0bcd']);
      expect(await searchTexts(ali.id, 'x\0yz')).toEqual([]);
    });
  });
});
