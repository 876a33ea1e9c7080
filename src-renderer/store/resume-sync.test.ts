/** The renderer's part of automatic sign-in and of notifications the desktop shell shows. */
import { describe, expect, it, vi } from 'vitest';
import type { Result, SessionView } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage, HistoryPage } from '../../src-shared/protocol/objects.js';
import { OFFLINE_SESSION } from '../lib/session.js';
import { createAppStore } from './index.js';
import { pendingFor } from './selectors.js';
import { startSync } from './sync.js';
import { fakeApi, onlineSession, roomMessage } from './test-data.js';

const ok = <T>(value: T) => Promise.resolve({ ok: true as const, value });

describe('a session the app restores at start', () => {
  it('loads the conversations while it is still connecting', async () => {
    const restoring: SessionView = { ...onlineSession('bob'), status: 'connecting', resumed: true };
    const history = vi.fn(async (): Promise<Result<HistoryPage>> => ok({ messages: [roomMessage(1, 'alice')], hasMore: false, deliveredUpTo: 0 }));
    const ctx = { store: createAppStore(), api: fakeApi({ session: () => ok(restoring), history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ctx.store.getState().timelines['room']?.messages.map((m) => m.id)).toEqual([1]));
    expect(ctx.store.getState().session.status).toBe('connecting');
  });

  it('shows a message sent before the restart as sending while it connects, then once, as sent', async () => {
    const restoring: SessionView = { ...onlineSession('bob'), status: 'connecting', resumed: true };
    const kept = { clientMsgId: 'k1', target: { kind: 'room' as const }, text: 'written before the restart' };
    let unsent = [kept];
    let stored: ChatMessage[] = [];
    const api = fakeApi({
      session: () => ok(restoring),
      unsent: () => ok(unsent),
      history: () => ok({ messages: stored, hasMore: false, deliveredUpTo: 0 }),
    });
    const ctx = { store: createAppStore(), api };
    startSync(ctx);
    const pending = () => pendingFor(ctx.store.getState(), 'room').map((entry) => [entry.text, entry.status]);
    await vi.waitFor(() => expect(pending()).toEqual([[kept.text, 'queued']]));

    // Online: the catch-up brings it (the host had stored it), and the resend is answered with it.
    const message = { ...roomMessage(4, 'bob', kept.text), clientMsgId: kept.clientMsgId };
    stored = [message];
    unsent = [];
    api.emit({ type: 'session', session: { ...onlineSession('bob'), resumed: true } });
    api.emit({ type: 'message', message });
    api.emit({ type: 'outbox', status: 'sent', ...kept, ts: message.ts, message });
    await vi.waitFor(() => expect(ctx.store.getState().timelines['room']?.messages.map((m) => m.id)).toEqual([4]));
    expect(pending()).toEqual([]);
    expect(ctx.store.getState().outbox[kept.clientMsgId]?.status).toBe('sent');
  });

  it('does not load anything for a join that is still connecting', async () => {
    const history = vi.fn(async (): Promise<Result<HistoryPage>> => ok({ messages: [], hasMore: false, deliveredUpTo: 0 }));
    const connecting: SessionView = { ...OFFLINE_SESSION, status: 'connecting' };
    const ctx = { store: createAppStore(), api: fakeApi({ session: () => ok(connecting), history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ctx.store.getState().session.status).toBe('connecting'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(history).not.toHaveBeenCalled();
  });
});

describe('a clicked desktop notification', () => {
  it('opens its conversation in the main window', async () => {
    const history = vi.fn(async (conv: ConversationKey): Promise<Result<HistoryPage>> => ok({ messages: conv === 'group:3' ? [roomMessage(7, 'alice')] : [], hasMore: false, deliveredUpTo: 0 }));
    const api = fakeApi({ history });
    const ctx = { store: createAppStore(), api };
    startSync(ctx);
    await vi.waitFor(() => expect(ctx.store.getState().activeConv).toBe('room'));
    api.emit({ type: 'showConversation', conv: 'group:3' });
    await vi.waitFor(() => expect(ctx.store.getState().activeConv).toBe('group:3'));
    expect(history).toHaveBeenCalledWith('group:3');
  });
});
