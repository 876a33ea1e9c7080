/**
 * History: a generated database (the room, direct conversations and groups), then
 * searches and the latest page of conversations, asked through the real host.
 */
import { performance } from 'node:perf_hooks';
import { ROOM, dmConversation, groupConversation, type ConversationKey } from '../src-shared/protocol/conversation.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { indexCaughtUp } from '../src-main/store/search-index.js';
import { openStore, openStoreWithDatabase } from '../src-main/store/store.js';
import type { NewMessage, ServerStore } from '../src-main/store/types.js';
import type { Db } from '../src-main/store/rows.js';
import { type Account, type Result, transport, databaseFile, percentile, removeDir, round, seedAccounts, serverFigures, spawnServer, tempDataDir } from './common.js';
import { WireClient } from './wire.js';
import { seededRandom } from '../src-main/testing/prng.js';

export interface HistoryOptions {
  messages: number;
  users: number;
  dms: number;
  groups: number;
  /** Searches of each kind, and conversations opened. */
  queries: number;
}

const BATCH = 10_000;

const SYLLABLES = ['ka', 'le', 'mi', 'no', 'ru', 'sa', 'te', 'vi', 'do', 'ga', 'be', 'lo', 'pa', 'ri', 'tu', 'ze', 'ko', 'ma', 'ne', 'si', 'ya', 'ho', 'fe', 'ci'];

/** Words of two to four syllables; the first ones are the most used (a long tail, as in speech). */
function vocabulary(next: () => number, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(next() * 3);
    let word = '';
    for (let i = 0; i < syllables; i++) word += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

interface Conversation {
  conv: ConversationKey;
  members: number[];
  toUserId?: number;
  groupId?: number;
}

/** What the generator made, for the reads that follow. */
export interface Generated {
  accounts: Account[];
  conversations: Conversation[];
  words: string[];
  pickWord: () => string;
  next: () => number;
  /** Wall-clock and CPU milliseconds of this process inside Store.insertMessages. */
  insertMs: number;
  insertCpuMs: number;
}

/**
 * Fills `store` with the generated history: the accounts, the direct conversations and groups, then
 * `options.messages` messages through `insert` (Store.insertMessages unless told) in batches of BATCH,
 * timing only those calls. `bench/ingest.ts` runs this alone.
 */
export async function generateHistory(
  store: ServerStore,
  options: Pick<HistoryOptions, 'messages' | 'users' | 'dms' | 'groups'>,
  insert: (batch: NewMessage[]) => unknown = (batch) => store.insertMessages(batch),
): Promise<Generated> {
  const next = seededRandom(42);
  const words = vocabulary(next, 5000);
  const pickWord = (): string => words[Math.floor(words.length * next() ** 3)]!;
  const accounts = await seedAccounts(store, options.users);
  const ids = accounts.map((account) => account.id);
  const pickUser = (): number => ids[Math.floor(next() * ids.length)]!;

  const conversations: Conversation[] = [];
  const pairs = new Set<string>();
  while (conversations.length < options.dms) {
    const [a, b] = [pickUser(), pickUser()];
    if (a === b || pairs.has(dmConversation(a, b))) continue;
    pairs.add(dmConversation(a, b));
    conversations.push({ conv: dmConversation(a, b), members: [a, b], toUserId: b });
  }
  const reader = accounts[0]!;
  for (let g = 0; g < options.groups; g++) {
    const owner = g === 0 ? reader.id : pickUser();
    const group = store.createGroup(`group ${g}`, nameKey(`group ${g}`), owner, Date.now());
    const members = new Set([owner]);
    while (members.size < 10) members.add(pickUser());
    for (const member of members) store.addMember(group.id, member);
    conversations.push({ conv: groupConversation(group.id), members: [...members], groupId: group.id });
  }

  let insertMs = 0;
  /** CPU time of this process while inserting: on a loaded machine a steadier figure than the wall clock. */
  let insertCpuMs = 0;
  let made = 0;
  const start = Date.now() - options.messages * 1000;
  while (made < options.messages) {
    const batch: NewMessage[] = [];
    for (let i = 0; i < BATCH && made < options.messages; i++, made++) {
      const length = 3 + Math.floor(next() * 12);
      const text = Array.from({ length }, pickWord).join(' ');
      const ts = start + made * 1000;
      const clientMsgId = `gen-${made}`;
      // Half the traffic in the room, the rest spread over direct conversations and groups.
      if (next() < 0.5) {
        batch.push({ conv: ROOM, senderId: pickUser(), clientMsgId, text, ts });
      } else {
        const conversation = conversations[Math.floor(next() * conversations.length)]!;
        const sender = conversation.members[Math.floor(next() * conversation.members.length)]!;
        if (conversation.toUserId !== undefined) {
          const [a, b] = conversation.members as [number, number];
          batch.push({ conv: conversation.conv, senderId: sender, toUserId: sender === a ? b : a, clientMsgId, text, ts });
        } else {
          batch.push({ conv: conversation.conv, senderId: sender, groupId: conversation.groupId!, clientMsgId, text, ts });
        }
      }
    }
    const before = performance.now();
    const cpuBefore = process.cpuUsage();
    insert(batch);
    const cpu = process.cpuUsage(cpuBefore);
    insertMs += performance.now() - before;
    insertCpuMs += (cpu.user + cpu.system) / 1000;
  }
  return { accounts, conversations, words, pickWord, next, insertMs, insertCpuMs };
}

/**
 * What SQLite and the disk allow for the same ingest (issue 37's floor): the same generated messages in
 * the same batches, on a database with the store's schema, indexes and settings, written by a bare
 * loop of one prepared INSERT per message in one transaction per batch. None of the store's work per
 * message (permission checks, folding for search, mentions, quotas, the short-needle index) is done;
 * `folded` is empty, as the store writes it for text that folding leaves unchanged.
 */
export async function ingestFloor(options: Pick<HistoryOptions, 'messages' | 'users' | 'dms' | 'groups'>): Promise<Result> {
  const dataDir = tempDataDir();
  const { store, db } = openStoreWithDatabase(databaseFile(dataDir));
  try {
    const { insertMs, insertCpuMs } = await generateHistory(store, options, floorInsert(db));
    return {
      workload: 'ingest-floor',
      messages: options.messages,
      ingest_per_s: Math.round(options.messages / (insertMs / 1000)),
      ingest_per_cpu_s: Math.round(options.messages / (insertCpuMs / 1000)),
    };
  } finally {
    await store.close();
    removeDir(dataDir);
  }
}

/** The floor's loop: one prepared INSERT per message, one transaction per batch, on the store's connection. */
export function floorInsert(db: Db): (batch: NewMessage[]) => void {
  const insert = db.prepare<[string, number, number | null, number | null, string, string, string, number]>(
    `INSERT INTO messages (conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
  );
  return db.transaction((batch: NewMessage[]) => {
    for (const m of batch) insert.run(m.conv, m.senderId, m.toUserId ?? null, m.groupId ?? null, m.clientMsgId, m.text, '', m.ts);
  });
}

/**
 * Seconds from now until the store's trigram indexer (search-index.ts, a thread of this process, which
 * works while the messages go in) has indexed all of them: the work the ingest no longer does itself.
 */
export async function indexCatchUp(file: string): Promise<number> {
  const start = performance.now();
  // The generator's store started its indexer once INDEX_BACKLOG messages waited; a search would also start a search thread.
  while (!indexCaughtUp(file)) await sleep(50);
  return (performance.now() - start) / 1000;
}

export async function history(options: HistoryOptions): Promise<Result> {
  const dataDir = tempDataDir();
  const store = openStore(databaseFile(dataDir));
  const { accounts, conversations, words, pickWord, next, insertMs, insertCpuMs } = await generateHistory(store, options);
  // The searches below then read a complete index, as before it had its own thread.
  const indexCaughtUpS = await indexCatchUp(databaseFile(dataDir));
  await store.close();
  const reader = accounts[0]!;

  const server = await spawnServer('host.ts', ['--data', dataDir]);
  const client = await WireClient.login(server.port, reader.name, reader.token, transport.tls);
  await server.probe!.reset();
  const cpuBefore = server.cpuSeconds();
  // As real clients do: a search that takes long must not get the reader dropped as silent.
  client.startHeartbeat(5000);
  try {
    const timed = async (type: string, body: Record<string, unknown>): Promise<number> => {
      const before = performance.now();
      await client.request(type, body);
      return performance.now() - before;
    };
    const commonWords = words.slice(0, 200);
    const word: number[] = [];
    const part: number[] = [];
    const letter: number[] = [];
    const open: number[] = [];
    const readable = [ROOM, ...conversations.filter((c) => c.members.includes(reader.id)).map((c) => c.conv)];
    for (let i = 0; i < options.queries; i++) {
      const query = commonWords[Math.floor(next() * commonWords.length)]!;
      word.push(await timed('search', { query }));
      // Part of a word: drop the first and last letter (at least three letters remain).
      const long = words.find((w, index) => index >= i * 7 && w.length >= 6)!;
      part.push(await timed('search', { query: long.slice(1, -1) }));
      open.push(await timed('history', { conv: readable[i % readable.length]! }));
    }
    const phaseMax: Record<string, number> = {};
    /** Which part of the workload held the loop longest (docs/BENCHMARKS.md, "Long turns (loop18)"). */
    const endPhase = async (name: string): Promise<void> => {
      phaseMax[`loop_max_ms_${name}`] = (await server.probe!.phase()).loopMaxMs;
    };
    await endPhase('searches');
    // Edits and deletes of the reader's own messages (issue 12): search index kept in step, text overwritten.
    const edit: number[] = [];
    const remove: number[] = [];
    for (let i = 0; i < options.queries; i++) {
      const { message } = (await client.sendToRoom(`own-${i}`, `${pickWord()} ${pickWord()} ${pickWord()}`)) as { message: { id: number } };
      edit.push(await timed('edit', { messageId: message.id, text: `${pickWord()} ${pickWord()}` }));
      remove.push(await timed('delete', { messageId: message.id }));
    }
    await endPhase('edits');
    // Needles under three letters have no trigram to use: those the generated text holds fill a
    // first page quickly, the others (j, q, w, x never occur) may have to look at everything.
    const present = new Set(SYLLABLES.join(''));
    const rare: number[] = [];
    for (const query of 'abcdefghijklmnopqrstuvwxyz') (present.has(query) ? letter : rare).push(await timed('search', { query }));
    const pair: number[] = [];
    const rarePair: number[] = [];
    for (const query of SYLLABLES.slice(0, 10)) pair.push(await timed('search', { query }));
    for (const query of ['jo', 'qa', 'wi', 'xu', 'aj', 'eq', 'ow', 'ix', 'jq', 'wx']) rarePair.push(await timed('search', { query }));
    await endPhase('short_needles');
    // The attack of issue 10: 80 pipelined one-letter searches for letters no message holds,
    // while another user asks for the room's latest message over and over.
    const absent = [...'abcdefghijklmnopqrstuvwxyz'].filter((query) => !present.has(query));
    // The bystander pings too; a stalled host drops it all the same.
    const bystander = await WireClient.login(server.port, accounts[1]!.name, accounts[1]!.token, transport.tls);
    bystander.startHeartbeat(5000);
    const bystanderMs: number[] = [];
    let attacking = true;
    let bystanderDropped = false;
    const asking = (async () => {
      while (attacking) {
        const before = performance.now();
        await bystander.request('history', { conv: ROOM, limit: 1 });
        bystanderMs.push(performance.now() - before);
      }
    })().catch(() => {
      bystanderDropped = true;
    });
    const attackStart = performance.now();
    const searches = Array.from({ length: 80 }, (_, i) => client.request('search', { query: absent[i % absent.length]! }));
    const attackAnswered = (await Promise.allSettled(searches)).filter((outcome) => outcome.status === 'fulfilled').length;
    const attackMs = performance.now() - attackStart;
    attacking = false;
    await asking;
    bystander.close();
    await endPhase('attack');
    return {
      ...(await serverFigures(server, cpuBefore)),
      workload: 'history',
      messages: options.messages,
      ingest_per_s: Math.round(options.messages / (insertMs / 1000)),
      ingest_per_cpu_s: Math.round(options.messages / (insertCpuMs / 1000)),
      index_caught_up_s: round(indexCaughtUpS),
      word_p95_ms: round(percentile(word, 0.95)),
      substring_p95_ms: round(percentile(part, 0.95)),
      one_letter_ms: round(percentile(letter, 0.95)),
      one_letter_absent_ms: round(percentile(rare, 0.95)),
      two_letter_ms: round(percentile(pair, 0.95)),
      two_letter_absent_ms: round(percentile(rarePair, 0.95)),
      attack_80_searches_s: round(attackMs / 1000),
      attack_answered: attackAnswered,
      bystander_dropped: bystanderDropped,
      bystander_requests: bystanderMs.length,
      bystander_p99_ms: round(percentile(bystanderMs, 0.99)),
      bystander_max_ms: round(bystanderMs.reduce((max, ms) => Math.max(max, ms), 0)),
      open_latest_ms: round(percentile(open, 0.95)),
      edit_p95_ms: round(percentile(edit, 0.95)),
      delete_p95_ms: round(percentile(remove, 0.95)),
      ...phaseMax,
    };
  } finally {
    client.close();
    await server.stop();
    removeDir(dataDir);
  }
}


