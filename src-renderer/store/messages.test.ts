import { describe, expect, it } from 'vitest';
import { createAppStore } from './index.js';
import { HELD_KEEP, HELD_MAX } from './messages.js';
import { roomMessage } from './test-data.js';

const page = (from: number, to: number, hasMore: boolean) => ({
  messages: Array.from({ length: to - from + 1 }, (_, i) => roomMessage(from + i, 'bob')),
  hasMore,
});

const ids = (store: ReturnType<typeof createAppStore>) =>
  (store.getState().timelines['room']?.messages ?? []).map((message) => message.id);

describe('conversation pages', () => {
  it('prepend an older page before the loaded messages without repeats', () => {
    const store = createAppStore();
    store.getState().mergeLatestPage('room', page(10, 14, true));
    store.getState().setLoadingOlder('room', true);
    store.getState().prependPage('room', page(6, 10, false));
    expect(ids(store)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(store.getState().timelines['room']).toMatchObject({ hasMore: false, loadingOlder: false });
  });

  it('merge the newest page with live messages that arrived before it', () => {
    const store = createAppStore();
    store.getState().addMessage(roomMessage(15, 'bob'));
    store.getState().mergeLatestPage('room', page(11, 15, true));
    expect(ids(store)).toEqual([11, 12, 13, 14, 15]);
    expect(store.getState().timelines['room']).toMatchObject({ loaded: true, hasMore: true });
  });

  it('keep older pages and their hasMore when the newest page is fetched again', () => {
    const store = createAppStore();
    store.getState().mergeLatestPage('room', page(10, 14, true));
    store.getState().prependPage('room', page(1, 9, false));
    store.getState().mergeLatestPage('room', page(12, 16, true));
    expect(ids(store)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(store.getState().timelines['room']?.hasMore).toBe(false);
  });

  it('replace the loaded run when the newest page does not reach back to it', () => {
    const store = createAppStore();
    store.getState().mergeLatestPage('room', page(1, 5, false));
    store.getState().mergeLatestPage('room', page(50, 54, true));
    expect(ids(store)).toEqual([50, 51, 52, 53, 54]);
    expect(store.getState().timelines['room']?.hasMore).toBe(true);
  });

  it('do not append live messages to an older stretch, and return to the newest page after it', () => {
    const store = createAppStore();
    store.getState().showOlderStretch('room', page(3, 6, true));
    store.getState().addMessage(roomMessage(90, 'bob'));
    expect(ids(store)).toEqual([3, 4, 5, 6]);
    store.getState().mergeLatestPage('room', page(86, 90, true));
    expect(ids(store)).toEqual([86, 87, 88, 89, 90]);
    expect(store.getState().timelines['room']?.hasNewer).toBe(false);
  });
});

describe('how much of a conversation is held', () => {
  const flood = (store: ReturnType<typeof createAppStore>, from: number, count: number) => {
    for (let id = from; id < from + count; id++) store.getState().addMessage(roomMessage(id, 'bob'));
  };

  it('keeps the newest of a busy conversation not on screen, the older to be paged back in', () => {
    const store = createAppStore();
    store.getState().mergeLatestPage('room', page(1, 50, false));
    store.getState().setActiveConv('dm:1:2');
    flood(store, 51, HELD_MAX);
    const held = ids(store);
    expect(held.length).toBeLessThanOrEqual(HELD_MAX);
    expect(held.at(-1)).toBe(50 + HELD_MAX);
    expect(held).toEqual(Array.from({ length: held.length }, (_, index) => 51 + HELD_MAX - held.length + index));
    expect(store.getState().timelines['room']?.hasMore).toBe(true);
  });

  it('keeps all of the conversation on screen until its list asks, since the reader may be reading the oldest', () => {
    const store = createAppStore();
    store.getState().mergeLatestPage('room', page(1, 50, false));
    flood(store, 51, HELD_MAX);
    expect(ids(store)).toHaveLength(50 + HELD_MAX);
    store.getState().holdNewest('room');
    expect(ids(store)).toHaveLength(HELD_KEEP);
    expect(ids(store).at(-1)).toBe(50 + HELD_MAX);
    expect(store.getState().timelines['room']?.hasMore).toBe(true);
    // Nothing to cut: the same timeline, no update.
    const before = store.getState().timelines['room'];
    store.getState().holdNewest('room');
    expect(store.getState().timelines['room']).toBe(before);
  });
});

describe('messages not yet sent, as a window opened later lists them', () => {
  it('keep why one waits and whether it went out already, and go on from there', () => {
    const store = createAppStore();
    const waiting = { code: 'E2EE_WAITING', message: 'bob’s app cannot receive end-to-end encrypted messages yet' };
    store.getState().restoreUnsent(
      [
        { clientMsgId: 'c1', target: { kind: 'dm', user: 'bob' }, text: 'first', error: waiting },
        { clientMsgId: 'c2', target: { kind: 'dm', user: 'bob' }, text: 'second', tried: true },
      ],
      5,
    );
    expect(store.getState().outbox).toEqual({
      c1: { clientMsgId: 'c1', target: { kind: 'dm', user: 'bob' }, text: 'first', ts: 5, status: 'queued', error: waiting, tried: false },
      c2: { clientMsgId: 'c2', target: { kind: 'dm', user: 'bob' }, text: 'second', ts: 5, status: 'queued', error: null, tried: true },
    });
    // Gone out once, it stays so while it is reported queued again, with why.
    const retrying = { code: 'RATE_LIMITED', message: 'too fast' };
    store.getState().updateOutbox({ type: 'outbox', clientMsgId: 'c2', status: 'queued', target: { kind: 'dm', user: 'bob' }, text: 'second', ts: 9, error: retrying });
    expect(store.getState().outbox['c2']).toMatchObject({ status: 'queued', error: retrying, tried: true });
  });
});
