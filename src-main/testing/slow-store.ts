/**
 * A real store whose every call waits, like a database across a network: the call reaches the
 * store after a random delay and its answer comes back after another, so answers can overtake
 * one another. For tests of what the server keeps correct when its store really waits.
 */
import type { AsyncStore } from '../store/types.js';

type Call = (...args: unknown[]) => Promise<unknown>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type SlowerCalls = Partial<Record<keyof AsyncStore, number>>;

/**
 * Each delay is random() × maxDelayMs / 2, before the call and again after it; `slower` adds
 * that many ms before the named calls (a write that takes its time, to widen a race's window).
 */
export function slowStore(store: AsyncStore, random: () => number, maxDelayMs: number, slower: SlowerCalls = {}): AsyncStore {
  const wait = (extra = 0): Promise<void> => sleep(extra + (random() * maxDelayMs) / 2);
  const slow = {} as Record<string, Call>;
  for (const name of Object.keys(store)) {
    const call = (store as unknown as Record<string, Call>)[name]!;
    slow[name] = async (...args) => {
      await wait(slower[name as keyof AsyncStore]);
      const answer = await call(...args);
      await wait();
      return answer;
    };
  }
  slow.changeGroups = async (ts, change) => {
    await wait();
    const answer = await store.changeGroups(ts as number, (tx) => (change as (tx: AsyncStore) => ReturnType<Parameters<AsyncStore['changeGroups']>[1]>)(slowStore(tx, random, maxDelayMs, slower)));
    await wait();
    return answer;
  };
  return slow as unknown as AsyncStore;
}
