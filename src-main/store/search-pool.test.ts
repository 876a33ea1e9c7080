import { describe, expect, it } from 'vitest';
import { waitFor } from '../testing/harness.js';
import { indexCaughtUp } from './search-index.js';
import { addUser, file, roomMessage, store, texts, useTestStore } from './test-sqlite-store.js';

useTestStore();

/**
 * 60,000 room messages of Ali's, none with a q: a search for "q" among Ali's messages reads them all,
 * in many slices (the short-needle index would answer "q" alone at once).
 */
const LONG = { query: 'q', limit: 10 };
function longRoom(): number {
  const ali = addUser('Ali');
  store.insertMessages(Array.from({ length: 60_000 }, (_, i) => roomMessage(ali, `lorem ipsum ${i}`)));
  return ali.id;
}

describe('searches on the worker thread', () => {
  it('stops a search whose signal aborts: the worker gives up at its next slice and the search rejects with the reason', async () => {
    const me = longRoom();
    const controller = new AbortController();
    const searching = store.search(me, { ...LONG, personId: me, signal: controller.signal });
    controller.abort(new Error('the connection closed'));
    // Had the worker read on to the end, the search would resolve with an empty page instead.
    await expect(searching).rejects.toThrow('the connection closed');
    expect(texts((await store.search(me, { query: 'ipsum 59999', limit: 10 })).messages)).toEqual(['lorem ipsum 59999']);
  });

  it('refuses a search whose signal has already aborted', async () => {
    const me = addUser('Ali').id;
    await expect(store.search(me, { query: 'x', limit: 10, signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
  });

  it('runs searches side by side: a short one is answered while a long one reads', async () => {
    const me = longRoom();
    // Every worker the pool may use started, so neither search waits for a thread to start.
    await Promise.all([store.search(me, { query: 'x', limit: 1 }), store.search(me, { query: 'y', limit: 1 })]);
    // Until the indexer has the messages, "ipsum 1" too reads 40,000 of them (from the newest to 'lorem ipsum 19999').
    // Its thread indexes 60,000 messages: at load 10 that took more than 20 s (issue 37), so the bound is the test's.
    await waitFor(() => indexCaughtUp(file), 150_000, 'the indexer to catch up');
    const finished: string[] = [];
    const long = store.search(me, { ...LONG, personId: me }).then(() => finished.push('long'));
    const short = store.search(me, { query: 'ipsum 1', limit: 1 }).then(() => finished.push('short'));
    await Promise.all([long, short]);
    expect(finished).toEqual(['short', 'long']);
  }, 180_000);

  it('sees every message committed before it was asked, while the server keeps writing', async () => {
    const ali = addUser('Ali');
    for (let i = 0; i < 20; i++) {
      store.insertMessages([roomMessage(ali, `note ${i}`)]);
      expect(texts((await store.search(ali.id, { query: `note ${i}`, limit: 5 })).messages)).toEqual([`note ${i}`]);
    }
  });
});
