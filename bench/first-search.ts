/**
 * The first search after a host starts (issue 38): on a room of a handful of messages it waited
 * seconds for a search thread to start (from the TypeScript sources under `npm start`), where later
 * searches answer at once. Measured in this process, as the app's host runs: a store opened with and
 * without a search thread from the opening, a search a person's first look later, then more.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ROOM } from '../src-shared/protocol/conversation.js';
import { openStore } from '../src-main/store/store.js';
import { type Result, removeDir, round, seedAccounts, tempDataDir } from './common.js';

export interface FirstSearchOptions {
  /** From the opening to the first search: about when a person who opened the app has typed a query. */
  typedAfterMs: number;
  /** Searches after the first, whose median is the "later" figure. */
  later: number;
}

export async function firstSearch(options: FirstSearchOptions): Promise<Result> {
  const dir = tempDataDir();
  try {
    const file = join(dir, 'chat.sqlite');
    const seeding = openStore(file);
    const [author] = await seedAccounts(seeding, 2);
    seeding.insertMessages(Array.from({ length: 8 }, (_, i) => ({ conv: ROOM, senderId: author!.id, clientMsgId: `m${i}`, text: `hello Ayla ${i}`, ts: Date.now() })));
    await seeding.close();

    const result: Result = { workload: 'first-search', typed_after_ms: options.typedAfterMs };
    for (const [label, searchThreadAtOpening] of [['thread_at_first_search', false], ['thread_at_opening', true]] as const) {
      const store = openStore(file, { searchThreadAtOpening });
      try {
        await sleep(options.typedAfterMs);
        const timed = async (): Promise<number> => {
          const started = performance.now();
          await store.search(author!.id, { query: 'ayla', limit: 50 });
          return performance.now() - started;
        };
        result[`${label}_first_ms`] = round(await timed(), 1);
        const later: number[] = [];
        for (let i = 0; i < options.later; i++) later.push(await timed());
        later.sort((a, b) => a - b);
        result[`${label}_later_p50_ms`] = round(later[Math.floor(later.length / 2)]!, 1);
      } finally {
        await store.close();
      }
    }
    return result;
  } finally {
    removeDir(dir);
  }
}
