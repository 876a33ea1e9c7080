/** The renderer's part of automatic sign-in and of notifications the desktop shell shows. */
import { describe, expect, it, vi } from 'vitest';
import type { Result, SessionView } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { HistoryPage } from '../../src-shared/protocol/objects.js';
import { OFFLINE_SESSION } from '../lib/session.js';
import { createAppStore } from './index.js';
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
