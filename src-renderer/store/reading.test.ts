import { describe, expect, it, vi } from 'vitest';
import type { HistoryPage } from '../../src-shared/protocol/objects.js';
import { applyEvent } from './events.js';
import { createAppStore } from './index.js';
import { changeReadReceipts, handleEvent, markRead, openConversation } from './sync.js';
import { directMessage, fakeApi, onlineSession, roomMessage, storeAs } from './test-data.js';

const session = { ...onlineSession('alice'), features: ['edit', 'delete', 'reply', 'reactions', 'read', 'typing'] };

function signedIn(overrides: Parameters<typeof fakeApi>[0] = {}) {
  const ctx = { store: createAppStore(), api: fakeApi(overrides) };
  applyEvent(ctx.store, { type: 'session', session });
  return ctx;
}

describe('the unread line', () => {
  it('goes before the first message after your read position when you open the conversation', async () => {
    const page: HistoryPage = { messages: [1, 2, 3, 4].map((id) => directMessage(id, id === 1 ? 'alice' : 'bob', 'alice')), hasMore: false, deliveredUpTo: 0 };
    const ctx = signedIn({ history: async () => ({ ok: true, value: page }) });
    ctx.store.getState().setReadState([{ conv: 'dm:1:2', upTo: 2, unread: 2, mentions: 0 }]);
    await openConversation(ctx, 'dm:1:2');
    expect(ctx.store.getState().divider).toEqual({ conv: 'dm:1:2', after: 2 });
    // Opening it again (a second click) keeps the line.
    await openConversation(ctx, 'dm:1:2');
    expect(ctx.store.getState().divider).toEqual({ conv: 'dm:1:2', after: 2 });
  });

  it('without a position from the server, goes before as many messages from others as were counted', async () => {
    const ctx = { store: storeAs('alice'), api: fakeApi() };
    ctx.store.getState().setActiveConv('room');
    for (const id of [1, 2, 3]) handleEvent(ctx, { type: 'message', message: directMessage(id, 'bob', 'alice') });
    handleEvent(ctx, { type: 'message', message: directMessage(4, 'alice', 'bob') });
    expect(ctx.store.getState().unread['dm:1:2']).toBe(3);
    await openConversation(ctx, 'dm:1:2');
    expect(ctx.store.getState().divider).toEqual({ conv: 'dm:1:2', after: 0 });
  });
});

describe('read positions', () => {
  it('take unread and mention counts from the server, none for the open conversation', () => {
    const ctx = signedIn();
    ctx.store.getState().setActiveConv('room');
    ctx.store.getState().setReadState([
      { conv: 'room', upTo: 3, unread: 4, mentions: 1 },
      { conv: 'group:7', upTo: 9, unread: 2, mentions: 1 },
    ]);
    expect(ctx.store.getState().unread).toEqual({ 'group:7': 2 });
    expect(ctx.store.getState().mentionUnread).toEqual({ 'group:7': 1 });
  });

  it('read on another device up to the newest message clears the counts here', () => {
    const ctx = signedIn();
    ctx.store.getState().setActiveConv('room');
    handleEvent(ctx, { type: 'message', message: { ...directMessage(5, 'bob', 'alice', 'group:7'), to: undefined, mentions: ['alice'] } });
    expect(ctx.store.getState().mentionUnread['group:7']).toBe(1);
    handleEvent(ctx, { type: 'event', event: { eventId: 1, kind: 'read', conv: 'group:7', user: 'Alice', upTo: 5 } });
    expect(ctx.store.getState().unread['group:7']).toBeUndefined();
    expect(ctx.store.getState().mentionUnread['group:7']).toBeUndefined();
  });

  it('are sent once for a burst, at the furthest point, and never backwards', async () => {
    const markReadCall = vi.fn(async (_conv: string, upTo: number) => ({ ok: true as const, value: upTo }));
    const ctx = signedIn({ markRead: markReadCall });
    markRead(ctx, 'room', 3);
    markRead(ctx, 'room', 5);
    markRead(ctx, 'room', 4);
    await vi.waitFor(() => expect(markReadCall).toHaveBeenCalledTimes(1));
    expect(markReadCall).toHaveBeenCalledWith('room', 5);
    expect(ctx.store.getState().readUpTo['room']).toBe(5);
  });

  it('others’ positions become receipts; yours never does', () => {
    const ctx = signedIn();
    handleEvent(ctx, { type: 'event', event: { eventId: 1, kind: 'read', conv: 'dm:1:2', user: 'bob', upTo: 4 } });
    handleEvent(ctx, { type: 'event', event: { eventId: 2, kind: 'read', conv: 'dm:1:2', user: 'bob', upTo: 2 } });
    handleEvent(ctx, { type: 'event', event: { eventId: 3, kind: 'read', conv: 'dm:1:2', user: 'alice', upTo: 6 } });
    expect(ctx.store.getState().receipts['dm:1:2']).toEqual({ bob: { user: 'bob', upTo: 4 } });
  });
});

describe('turning read receipts off', () => {
  it('drops the receipts held at once and takes none until they are on again; a refusal puts it back', async () => {
    let refuse = false;
    const privacy = vi.fn(async (changes?: { sendReadReceipts?: boolean }) =>
      refuse
        ? { ok: false as const, error: { code: 'DISCONNECTED', message: 'gone' } }
        : { ok: true as const, value: { sendReadReceipts: changes?.sendReadReceipts ?? true } },
    );
    const receipts = vi.fn(async () => ({ ok: true as const, value: [{ user: 'bob', upTo: 9 }] }));
    const ctx = signedIn({ privacy, receipts });
    ctx.store.getState().setActiveConv('dm:1:2');
    handleEvent(ctx, { type: 'event', event: { eventId: 1, kind: 'read', conv: 'dm:1:2', user: 'bob', upTo: 4 } });

    const turnedOff = changeReadReceipts(ctx, false);
    expect(ctx.store.getState().receipts).toEqual({});
    expect(ctx.store.getState().sendReadReceipts).toBe(false);
    await turnedOff;
    handleEvent(ctx, { type: 'event', event: { eventId: 2, kind: 'read', conv: 'dm:1:2', user: 'bob', upTo: 6 } });
    ctx.store.getState().setReceipts('dm:1:2', [{ user: 'bob', upTo: 6 }]);
    expect(ctx.store.getState().receipts).toEqual({});

    expect(await changeReadReceipts(ctx, true)).toEqual({ ok: true, value: true });
    expect(ctx.store.getState().receipts['dm:1:2']).toEqual({ bob: { user: 'bob', upTo: 9 } });

    refuse = true;
    expect((await changeReadReceipts(ctx, false)).ok).toBe(false);
    expect(ctx.store.getState().sendReadReceipts).toBe(true);
    expect(ctx.store.getState().receipts['dm:1:2']).toEqual({ bob: { user: 'bob', upTo: 9 } });
  });
});

describe('changed messages', () => {
  it('replace the held copy, the preview and the quote in replies', () => {
    const ctx = signedIn();
    handleEvent(ctx, { type: 'message', message: roomMessage(1, 'bob', 'lunch at noon?') });
    handleEvent(ctx, { type: 'message', message: { ...roomMessage(2, 'alice', 'yes'), replyTo: { id: 1, from: 'bob', snippet: 'lunch at noon?' } } });
    handleEvent(ctx, { type: 'event', event: { eventId: 3, kind: 'edit', message: { ...roomMessage(1, 'bob', 'lunch at one?'), editedAt: 5 } } });
    let [first, second] = ctx.store.getState().timelines['room']!.messages;
    expect(first).toMatchObject({ text: 'lunch at one?', editedAt: 5 });
    expect(second!.replyTo).toEqual({ id: 1, from: 'bob', snippet: 'lunch at one?' });
    handleEvent(ctx, { type: 'event', event: { eventId: 4, kind: 'reaction', message: { ...roomMessage(2, 'alice', 'yes'), replyTo: second!.replyTo, reactions: [{ emoji: '👍', users: ['bob'] }] } } });
    expect(ctx.store.getState().latest['room']?.reactions).toEqual([{ emoji: '👍', users: ['bob'] }]);
    handleEvent(ctx, { type: 'event', event: { eventId: 5, kind: 'delete', message: { ...roomMessage(1, 'bob', ''), deleted: true } } });
    [first, second] = ctx.store.getState().timelines['room']!.messages;
    expect(first).toMatchObject({ text: '', deleted: true });
    expect(second!.replyTo).toEqual({ id: 1, from: 'bob', snippet: '', deleted: true });
  });
});

describe('typing', () => {
  it('shows others typing until their message comes or the time runs out; never you', () => {
    const ctx = signedIn();
    handleEvent(ctx, { type: 'typing', conv: 'room', user: 'bob' });
    handleEvent(ctx, { type: 'typing', conv: 'room', user: 'carol' });
    handleEvent(ctx, { type: 'typing', conv: 'room', user: 'ALICE' });
    expect(Object.keys(ctx.store.getState().typing['room']!)).toEqual(['bob', 'carol']);
    handleEvent(ctx, { type: 'message', message: roomMessage(1, 'Bob') });
    expect(Object.keys(ctx.store.getState().typing['room']!)).toEqual(['carol']);
    ctx.store.getState().expireTyping(Date.now() + 60_000);
    expect(ctx.store.getState().typing['room']).toBeUndefined();
  });
});
