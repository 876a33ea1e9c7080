/**
 * What only the PostgreSQL store has: several nodes writing one database at once, and its schema
 * versions. The features themselves are tested on both backends by the store's feature tests.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOM, dmConversation } from '../../../src-shared/protocol/conversation.js';
import { StoreOpenError } from '../open.js';
import type { AsyncStore, NewMessage, UserRow } from '../types.js';
import { LATEST_VERSION } from '../migrations/index.js';
import { openPgStore } from './open.js';
import { postgresMissing, testPostgres } from './testing.js';
import { freshPostgres, onPostgres } from '../migrations/test-migrations.js';

async function query(url: string, text: string): Promise<void> {
  await onPostgres(url, (client) => client.query(text));
}

describe.skipIf(postgresMissing !== undefined)(`the PostgreSQL store${postgresMissing ? ` (skipped: ${postgresMissing})` : ''}`, () => {
  describe('with several nodes writing at once', () => {
    const NODES = 3;
    const BATCHES = 40;
    let url: string;
    let nodes: AsyncStore[];
    let users: UserRow[];

    beforeAll(async () => {
      url = await freshPostgres();
      nodes = [];
      for (let i = 0; i < NODES; i++) nodes.push(await openPgStore(url, { maxConnections: 4 }));
      users = [];
      for (let i = 0; i < NODES; i++) {
        users.push(await nodes[0]!.createUser({ name: `u${i}`, nameKey: `u${i}`, skeleton: `u${i}`, passwordHash: 'h', createdAt: 1 }));
      }
    });
    afterAll(async () => {
      for (const node of nodes ?? []) await node.close();
    });

    it('hands out message and event ids in commit order: a reader following by cursor misses none', async () => {
      let writing = true;
      const write = async (node: number): Promise<void> => {
        for (let batch = 0; batch < BATCHES; batch++) {
          const size = 1 + (batch % 3);
          const messages: NewMessage[] = Array.from({ length: size }, (_, i) => ({
            conv: ROOM,
            senderId: users[node]!.id,
            clientMsgId: `n${node}-b${batch}-${i}`,
            text: `node ${node} batch ${batch} message ${i}`,
            ts: 1000 + batch,
          }));
          await nodes[node]!.insertMessages(messages);
        }
      };
      // Follows the room by message id, as a client syncs, and by event id, as it catches up.
      const follow = async (): Promise<{ messageIds: number[]; eventIds: number[] }> => {
        const messageIds: number[] = [];
        const eventIds: number[] = [];
        const reader = nodes[0]!;
        for (;;) {
          const done = !writing;
          const page = await reader.sync(users[0]!.id, messageIds.at(-1) ?? 0, 1000);
          messageIds.push(...page.messages.map((message) => message.id));
          const events = await reader.events(users[0]!.id, eventIds.at(-1) ?? 0, 1000);
          eventIds.push(...events.events.map((event) => event.eventId));
          if (done && !page.hasMore && !events.hasMore) return { messageIds, eventIds };
        }
      };
      const following = follow();
      await Promise.all(nodes.map((_, node) => write(node)));
      writing = false;
      const { messageIds, eventIds } = await following;

      const all = await nodes[1]!.sync(users[1]!.id, 0, 10_000);
      const total = NODES * Array.from({ length: BATCHES }, (_, batch) => 1 + (batch % 3)).reduce((a, b) => a + b, 0);
      expect(all.messages).toHaveLength(total);
      expect(messageIds).toEqual(all.messages.map((message) => message.id));
      expect((await nodes[2]!.events(users[2]!.id, 0, 10_000)).events.map((event) => event.eventId)).toEqual(eventIds);
      expect(eventIds).toHaveLength(total);
      expect(await nodes[2]!.lastEventId()).toBe(eventIds.at(-1));
    });

    it('catches up by the log in one snapshot: a first direct message committed during the read is not passed over', async () => {
      const [reader, writer] = [nodes[0]!, nodes[1]!];
      const [sender, recipient] = await Promise.all(
        ['first-dm-from', 'first-dm-to'].map((name) => writer.createUser({ name, nameKey: name, skeleton: name, passwordHash: 'h', createdAt: 1 })),
      );
      const after = await reader.lastEventId();
      // The log page's read waits on a table it reads (any but those its list of conversations reads) while
      // the two messages commit: the first direct message between the two, then a room message.
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE message_log_state IN ACCESS EXCLUSIVE MODE');
        const page = reader.events(recipient!.id, after, 100);
        await vi.waitFor(
          async () => {
            const { rows } = await blocker.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'message_log_state'::regclass");
            expect(rows[0].n).toBe(1);
          },
          { timeout: 30_000, interval: 20 },
        );
        const dm = dmConversation(sender!.id, recipient!.id);
        const [first] = await writer.insertMessages([{ conv: dm, senderId: sender!.id, toUserId: recipient!.id, clientMsgId: 'first-dm', text: 'first', ts: 1 }]);
        const [later] = await writer.insertMessages([{ conv: ROOM, senderId: sender!.id, clientMsgId: 'after-first-dm', text: 'later', ts: 2 }]);
        await blocker.query('COMMIT');
        const ids = [first, later].map((result) => (result && 'message' in result ? result.message.id : 0));
        // Both or neither (the page's snapshot may predate both): a page with the room message but not the
        // direct one moves the reader's cursor past it.
        expect([[], ids]).toContainEqual((await page).events.map((event) => event.eventId));
      } finally {
        await blocker.end();
      }
    });

    it('stores a message resent to two nodes at once exactly once', async () => {
      for (let round = 0; round < 20; round++) {
        const message: NewMessage = { conv: ROOM, senderId: users[1]!.id, clientMsgId: `resend-${round}`, text: `resend ${round}`, ts: 5000 };
        const results = await Promise.all(nodes.map((node) => node.insertMessages([message])));
        const stored = results.map(([result]) => {
          if (!result || !('message' in result)) throw new Error('not stored');
          return result;
        });
        expect(stored.filter((result) => !result.duplicate)).toHaveLength(1);
        expect(new Set(stored.map((result) => result.message.id)).size).toBe(1);
      }
    });

    it('keeps a daily quota across nodes', async () => {
      const quota = await openPgStore(url, { maxUserBytesPerDay: 100 });
      const other = await openPgStore(url, { maxUserBytesPerDay: 100 });
      try {
        const sender = await quota.createUser({ name: 'q', nameKey: 'q', skeleton: 'q', passwordHash: 'h', createdAt: 1 });
        // 20 messages of 10 bytes from two nodes at once: exactly 10 fit in the day.
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? quota : other).insertMessages([{ conv: ROOM, senderId: sender.id, clientMsgId: `q${i}`, text: '0123456789', ts: 7 }]),
          ),
        );
        expect(results.flat().filter((result) => 'overDailyQuota' in result)).toHaveLength(10);
      } finally {
        await quota.close();
        await other.close();
      }
    });
  });

  describe('changeGroups', () => {
    it('refuses calls on its transaction once it has ended, which would run in another', async () => {
      const store = await openPgStore(await freshPostgres(), { maxConnections: 1 });
      try {
        const ali = await store.createUser({ name: 'ali', nameKey: 'ali', skeleton: 'ali', passwordHash: 'h', createdAt: 1 });
        let kept: AsyncStore | undefined;
        await store.changeGroups(1, async (tx) => {
          kept = tx;
          return { result: undefined, events: [] };
        });
        await expect(kept!.createGroup('Late', 'late', ali.id, 2)).rejects.toThrow(/transaction that has ended/);
        expect(await store.groupsOf(ali.id)).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });

  describe('search', () => {
    it('cancels a search in the server when its signal is aborted, rejecting with the signal’s reason', async () => {
      const url = await freshPostgres();
      const store = await openPgStore(url);
      const locker = new pg.Client({ connectionString: url });
      await locker.connect();
      try {
        const user = await store.createUser({ name: 's', nameKey: 's', skeleton: 's', passwordHash: 'h', createdAt: 1 });
        await store.insertMessages([{ conv: ROOM, senderId: user.id, clientMsgId: 'm', text: 'lorem ipsum', ts: 1 }]);
        // The search's statement waits on this lock until it is cancelled: it cannot end by itself first.
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
        const waiting = async (): Promise<number> =>
          (await locker.query<{ count: number }>(`SELECT count(*)::int AS count FROM pg_locks WHERE relation = 'messages'::regclass AND NOT granted`))
            .rows[0]!.count;
        const controller = new AbortController();
        const searching = store.search(user.id, { query: 'ipsum', limit: 10, signal: controller.signal });
        await vi.waitFor(async () => expect(await waiting()).toBe(1), { timeout: 10_000 });
        controller.abort(new Error('the asker left'));
        await expect(searching).rejects.toThrow('the asker left');
        await vi.waitFor(async () => expect(await waiting()).toBe(0), { timeout: 10_000 });
        await locker.query('ROLLBACK');
        expect((await store.search(user.id, { query: 'ipsum', limit: 5 })).messages.map((message) => message.text)).toEqual(['lorem ipsum']);
      } finally {
        await locker.end();
        await store.close();
      }
    });
  });

  describe('its schema', () => {
    it('is created once, in one transaction, by nodes opening an empty database together', async () => {
      const url = await freshPostgres();
      const stores = await Promise.all([openPgStore(url), openPgStore(url), openPgStore(url)]);
      for (const store of stores) await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect((await client.query('SELECT version FROM schema_version')).rows).toEqual([{ version: LATEST_VERSION }]);
      } finally {
        await client.end();
      }
    });

    it('refuses a database written by a newer version', async () => {
      const url = await freshPostgres();
      await (await openPgStore(url)).close();
      await query(url, `UPDATE schema_version SET version = ${LATEST_VERSION + 1}`);
      await expect(openPgStore(url)).rejects.toThrow(StoreOpenError);
      await expect(openPgStore(url)).rejects.toThrow(/newer version of LanChat/);
    });

    it("refuses another application's database and leaves it as it was", async () => {
      const url = await freshPostgres();
      await query(url, 'CREATE TABLE invoices (id integer)');
      await expect(openPgStore(url)).rejects.toThrow(/another application/);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
        expect(tables.rows).toEqual([{ table_name: 'invoices' }]);
      } finally {
        await client.end();
      }
    });

    it('says which database it cannot reach', async () => {
      await expect(openPgStore((await testPostgres()).url('no_such_database'))).rejects.toThrow(/no_such_database/);
    });
  });
});
