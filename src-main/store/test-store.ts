/**
 * The one helper of the store tests: the feature tests run once per backend (forEachBackend),
 * each test on an empty real store: SQLite in a temporary folder, or on PostgreSQL this worker's
 * database on the run's server (pg/testing.ts), emptied to the migrated template's state before
 * each test. `store` and `backend` are live bindings: importers see the store that reopen() puts in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { dmConversation, groupConversation, ROOM } from '../../src-shared/protocol/conversation.js';
import { type ChatMessage } from '../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../src-shared/fold.js';
import { openPgStore } from './pg/open.js';
import { emptyTestDatabase, postgresMissing } from './pg/testing.js';
import { readText } from './pg/text.js';
import { openAsyncStore } from './async-store.js';
import { expectIndexMatchesMessages, indexerCaughtUp } from './test-search-index.js';
import type { StoreOptions } from './store.js';
import type { AsyncStore, InsertResult, NewMessage, StoredMessage, UserRow } from './types.js';

export type Backend = 'sqlite' | 'postgres';

export let backend: Backend;
export let store: AsyncStore;
/** SQLite: the folder and file of the test's database. */
export let dir: string;
export let file: string;
/** PostgreSQL: the test's database. */
let databaseUrl: string;
/** How long a test's store may take to close (its statements to end) before the test fails saying why. */
const CLOSE_BOUND_MS = 20_000;

function open(options: StoreOptions = {}): Promise<AsyncStore> {
  return backend === 'sqlite' ? Promise.resolve(openAsyncStore(file, options)) : openPgStore(databaseUrl, options);
}

/**
 * Runs `tests` (the file's describe blocks) once per backend, each test on an empty store.
 * PostgreSQL: the run's server, one database per worker, emptied before each test (emptyTestDatabase).
 */
export function forEachBackend(tests: (backend: Backend) => void): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    const skip = name === 'postgres' && postgresMissing !== undefined;
    describe.skipIf(skip)(skip ? `on postgres (skipped: ${postgresMissing})` : `on ${name}`, () => {
      beforeEach(async () => {
        backend = name;
        if (name === 'sqlite') {
          dir = mkdtempSync(join(tmpdir(), 'lanchat-store-'));
          file = join(dir, 'data', 'chat.sqlite');
        } else {
          databaseUrl = await emptyTestDatabase();
        }
        store = await open();
      });
      afterEach(async () => {
        // A test may have closed it already.
        const closing = store.close().then(
          () => 'closed',
          () => 'closed',
        );
        if (name === 'sqlite') {
          await closing;
          rmSync(dir, { recursive: true, force: true });
          return;
        }
        // A PostgreSQL store closes once its statements end: one that never does (CI saw a search test
        // hang so) is reported with what its database was doing, instead of a bare hook timeout.
        const bound = sleep(CLOSE_BOUND_MS, 'stuck', { ref: false });
        if ((await Promise.race([closing, bound])) === 'stuck') {
          const pool = JSON.stringify(store.poolStats?.());
          throw new Error(`the store was not closed within ${CLOSE_BOUND_MS / 1000} s; its pool: ${pool}; its database's other connections:\n${await databaseActivity()}`);
        }
      });
      tests(name);
    });
  }
}

export async function reopen(options: StoreOptions = {}): Promise<void> {
  await store.close();
  store = await open(options);
}

export function addUser(name: string): Promise<UserRow> {
  const key = name.toLowerCase();
  return store.createUser({ name, nameKey: key, skeleton: key, passwordHash: `hash-of-${name}`, createdAt: 1000 });
}

/** Adds the users one after another, so their ids follow the order of the names. */
export async function addUsers<Names extends string[]>(...names: Names): Promise<{ [K in keyof Names]: UserRow }> {
  const users: UserRow[] = [];
  for (const name of names) users.push(await addUser(name));
  return users as { [K in keyof Names]: UserRow };
}

let clientIds = 0;
export function roomMessage(sender: UserRow, text: string): NewMessage {
  return { conv: ROOM, senderId: sender.id, clientMsgId: `c${++clientIds}`, text, ts: 2000 + clientIds };
}
export function directMessage(sender: UserRow, recipient: UserRow, text: string): NewMessage {
  return {
    conv: dmConversation(sender.id, recipient.id),
    senderId: sender.id,
    toUserId: recipient.id,
    clientMsgId: `c${++clientIds}`,
    text,
    ts: 2000 + clientIds,
  };
}
export function groupMessage(sender: UserRow, groupId: number, text: string): NewMessage {
  return { conv: groupConversation(groupId), senderId: sender.id, groupId, clientMsgId: `c${++clientIds}`, text, ts: 2000 + clientIds };
}

/** The result of a message the store took (not over its sender's daily quota, nor refused as its sender may not write there). */
export function stored(result: InsertResult): StoredMessage {
  if ('overDailyQuota' in result) throw new Error('the message was over its sender’s daily quota');
  if ('notAllowed' in result) throw new Error(`the sender may not write there: ${result.notAllowed}`);
  return result;
}

/** Stores one message the way the server does (a batch of one) and returns it as stored. */
export async function send(message: NewMessage): Promise<ChatMessage> {
  return stored((await store.insertMessages([message]))[0]!).message;
}

export function texts(messages: ChatMessage[]): string[] {
  return messages.map((message) => message.text);
}

export async function searchTexts(userId: number, query: string, personId?: number): Promise<string[]> {
  return texts((await store.search(userId, { query, limit: 100, ...(personId !== undefined ? { personId } : {}) })).messages);
}

/** What each other connection to the test's PostgreSQL database is doing, one line each. */
async function databaseActivity(): Promise<string> {
  const rows = await pgRows<Record<string, unknown>>(
    `SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by,
       round(extract(epoch FROM now() - query_start))::int AS seconds, left(query, 160) AS query
     FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return rows.map((row) => JSON.stringify(row)).join('\n') || '(none)';
}

/** Runs one query on the test's PostgreSQL database. */
async function pgRows<Row>(text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as Row[];
  } finally {
    await client.end();
  }
}

/**
 * Checks that the search index matches the messages exactly. SQLite: once the indexer thread has
 * caught up (a search starts it), FTS5's own integrity check, and it lists exactly the messages with text.
 * PostgreSQL (the trigram index is an ordinary index on messages.folded): that each message's
 * folded text is what search must compare against: its text folded (with its files' names unless
 * edited), and nothing for membership lines and deleted messages.
 */
export async function expectSearchIndexInStep(): Promise<void> {
  if (backend === 'sqlite') {
    await store.search(0, { query: 'start the indexer', limit: 1 });
    await indexerCaughtUp(file);
    expectIndexMatchesMessages(file);
    return;
  }
  const rows = await pgRows<{ text: string; folded: string; names: string[]; edited: boolean; blank: boolean }>(
    `SELECT text, folded, coalesce((SELECT array_agg(f->>'name') FROM json_array_elements(attachments::json) AS f), '{}') AS names,
       edited_at IS NOT NULL AS edited, deleted OR group_event IS NOT NULL AS blank FROM messages`,
  );
  for (const row of rows) {
    const text = readText(row.text);
    const expected = row.blank ? '' : foldForSearch(row.edited ? text : [text, ...row.names].join('\n'));
    expect(readText(row.folded)).toBe(expected);
  }
}

/** The columns of other tables that refer to users, as `table.column`, sorted. */
export async function referencesToUsers(): Promise<string[]> {
  if (backend === 'sqlite') {
    const db = new Database(file, { readonly: true });
    try {
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
      return tables
        .flatMap((table) =>
          db
            .prepare<[], { table: string; from: string }>(`SELECT "table", "from" FROM pragma_foreign_key_list('${table}')`)
            .all()
            .filter((key) => key.table === 'users')
            .map((key) => `${table}.${key.from}`),
        )
        .sort();
    } finally {
      db.close();
    }
  }
  const rows = await pgRows<{ ref: string }>(
    `SELECT c.conrelid::regclass || '.' || a.attname AS ref
     FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
     WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass`,
  );
  return rows.map((row) => row.ref).sort();
}

/** How many rows each table holds. */
export async function rowCounts(tables: string[]): Promise<number[]> {
  if (backend === 'sqlite') {
    const db = new Database(file, { readonly: true });
    try {
      return tables.map((table) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number);
    } finally {
      db.close();
    }
  }
  const rows = await pgRows<{ counts: number[] }>(`SELECT ARRAY[${tables.map((table) => `(SELECT count(*) FROM ${table})::int`).join(', ')}] AS counts`);
  return rows[0]!.counts;
}
