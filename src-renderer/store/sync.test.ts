import { describe, expect, it, vi } from 'vitest';
import type { AppApi, Result } from '../../src-shared/api.js';
import type { HistoryPage, SearchPage } from '../../src-shared/protocol/objects.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { createAppStore } from './index.js';
import { endDirectChat, handleEvent, leaveRoom, loadOlder, openSearchHit, runSearch, signOut, startDirectChat, startSync } from './sync.js';
import { directMessage, fakeApi, onlineSession, roomMessage } from './test-data.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => roomMessage(from + i, 'bob'));

/** A room of messages 1..total served in pages of `size`, like the host's history call. */
function historyOf(total: number, size = 5, deliveredUpTo = 0) {
  return vi.fn(async (_conv: ConversationKey, before?: number): Promise<Result<HistoryPage>> => {
    const end = Math.min(total, (before ?? total + 1) - 1);
    const start = Math.max(1, end - size + 1);
    return { ok: true, value: { messages: range(start, end), hasMore: start > 1, deliveredUpTo } };
  });
}

const ids = (store: ReturnType<typeof createAppStore>, conv = 'room') =>
  (store.getState().timelines[conv]?.messages ?? []).map((message) => message.id);

describe('syncing with the App API', () => {
  it('counts a new login’s catch-up only once it knows who logged in: your own messages are not unread', () => {
    const ctx = { store: createAppStore(), api: fakeApi() };
    handleEvent(ctx, { type: 'session', session: { ...onlineSession('carol'), status: 'offline', me: null, roomName: null, server: null } });
    // The client replays what came since the last login before the app announces the session.
    handleEvent(ctx, { type: 'message', message: roomMessage(1, 'carol') });
    handleEvent(ctx, { type: 'message', message: directMessage(2, 'bob', 'carol') });
    handleEvent(ctx, { type: 'session', session: onlineSession('carol') });
    expect(ctx.store.getState().unread).toEqual({ 'dm:1:2': 1 });
    expect(ctx.store.getState().timelines['room']?.messages.map((message) => message.id)).toEqual([1]);
  });

  it('takes how far your messages reached from the history, so a new window or login still shows them delivered', async () => {
    const ctx = { store: createAppStore(), api: fakeApi({ history: historyOf(12, 5, 10) }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ctx.store.getState().deliveredUpTo['room']).toBe(10));
  });

  it('loads the newest page of the room once the session is online', async () => {
    const history = historyOf(12);
    const ctx = { store: createAppStore(), api: fakeApi({ history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ids(ctx.store)).toEqual([8, 9, 10, 11, 12]));
    expect(ctx.store.getState().activeConv).toBe('room');
  });

  it('keeps a conversation the user opened while the first load after login was still on its way', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const api = fakeApi({
      session: () => Promise.resolve({ ok: true, value: { ...onlineSession('bob'), features: ['read'] } }),
      history: vi.fn(async () => ({ ok: true as const, value: { messages: [], hasMore: false, deliveredUpTo: 0 } })),
      readState: vi.fn(async () => {
        await held;
        return { ok: true as const, value: [] };
      }),
    });
    const ctx = { store: createAppStore(), api };
    startSync(ctx);
    await vi.waitFor(() => expect(api.readState).toHaveBeenCalled());
    // The window shows the room meanwhile; the user starts a direct chat from it.
    ctx.store.getState().setActiveConv('dm:1:2');
    release();
    await vi.waitFor(() => expect(api.history).toHaveBeenCalled());
    expect(ctx.store.getState().activeConv).toBe('dm:1:2');
  });

  it('loads older pages before the oldest loaded message until there are no more', async () => {
    const history = historyOf(12);
    const ctx = { store: createAppStore(), api: fakeApi({ history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ids(ctx.store)).toHaveLength(5));
    await loadOlder(ctx, 'room');
    expect(history).toHaveBeenLastCalledWith('room', 8);
    await loadOlder(ctx, 'room');
    await loadOlder(ctx, 'room');
    expect(ids(ctx.store)).toEqual(range(1, 12).map((message) => message.id));
    expect(history).toHaveBeenCalledTimes(3);
  });

  it('resynchronises after the session comes back online', async () => {
    const history = historyOf(5);
    const api = fakeApi({ history });
    const ctx = { store: createAppStore(), api };
    startSync(ctx);
    await vi.waitFor(() => expect(history).toHaveBeenCalledTimes(1));
    api.emit({ type: 'session', session: { ...onlineSession('alice'), status: 'reconnecting' } });
    api.emit({ type: 'session', session: onlineSession('alice') });
    await vi.waitFor(() => expect(history).toHaveBeenCalledTimes(2));
  });

  it('opens a search hit outside the loaded messages with the page that ends at it, highlighted', async () => {
    const history = historyOf(100);
    const ctx = { store: createAppStore(), api: fakeApi({ history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ids(ctx.store)).toHaveLength(5));
    await openSearchHit(ctx, roomMessage(40, 'bob'));
    expect(history).toHaveBeenLastCalledWith('room', 41);
    expect(ids(ctx.store)).toEqual([36, 37, 38, 39, 40]);
    expect(ctx.store.getState().timelines['room']?.hasNewer).toBe(true);
    expect(ctx.store.getState().highlight).toEqual({ conv: 'room', id: 40 });
  });

  it('opens a search hit that is already loaded without fetching', async () => {
    const history = historyOf(100);
    const ctx = { store: createAppStore(), api: fakeApi({ history }) };
    startSync(ctx);
    await vi.waitFor(() => expect(ids(ctx.store)).toHaveLength(5));
    await openSearchHit(ctx, roomMessage(98, 'bob'));
    expect(history).toHaveBeenCalledTimes(1);
    expect(ctx.store.getState().highlight).toEqual({ conv: 'room', id: 98 });
  });

  it('drops the answer to an older search when a newer one was started', async () => {
    const answers: ((result: Result<SearchPage>) => void)[] = [];
    const search = vi.fn(() => new Promise<Result<SearchPage>>((resolve) => answers.push(resolve)));
    const ctx = { store: createAppStore(), api: fakeApi({ search }) };
    ctx.store.getState().setSearchQuery('lunch');
    const first = runSearch(ctx);
    ctx.store.getState().setSearchQuery('lunch today');
    const second = runSearch(ctx);
    answers[1]!({ ok: true, value: { hits: [{ message: roomMessage(2, 'bob', 'lunch today?') }], hasMore: false } });
    answers[0]!({ ok: true, value: { hits: [{ message: roomMessage(1, 'bob', 'lunch') }], hasMore: false } });
    await Promise.all([first, second]);
    expect(ctx.store.getState().searchHits.map((hit) => hit.message.id)).toEqual([2]);
    expect(search).toHaveBeenLastCalledWith('lunch today', undefined, undefined);
  });

  it('says "searching" from the first keystroke, and never shows an older query’s answer under a newer one', async () => {
    const answers: ((result: Result<SearchPage>) => void)[] = [];
    const search = vi.fn(() => new Promise<Result<SearchPage>>((resolve) => answers.push(resolve)));
    const ctx = { store: createAppStore(), api: fakeApi({ search }) };
    ctx.store.getState().setSearchQuery('lunch');
    // Typed, not yet asked (the request waits for typing to pause): not "no messages found".
    expect(ctx.store.getState()).toMatchObject({ searchLoading: true, searchHits: [] });
    const first = runSearch(ctx);
    ctx.store.getState().setSearchQuery('dinner');
    answers[0]!({ ok: true, value: { hits: [{ message: roomMessage(1, 'bob', 'lunch') }], hasMore: false } });
    await first;
    expect(ctx.store.getState()).toMatchObject({ searchLoading: true, searchHits: [] });
    const second = runSearch(ctx);
    answers[1]!({ ok: true, value: { hits: [], hasMore: false } });
    await second;
    expect(ctx.store.getState()).toMatchObject({ searchLoading: false, searchHits: [] });
    ctx.store.getState().setSearchQuery('');
    expect(ctx.store.getState().searchLoading).toBe(false);
  });

  it('filters search by part of a person’s name, in any case, and asks which person when several match', async () => {
    const search = vi.fn(async (): Promise<Result<SearchPage>> => ({ ok: true, value: { hits: [], hasMore: false } }));
    const ctx = { store: createAppStore(), api: fakeApi({ search }) };
    ctx.store.getState().setUsers(['Ayla', 'Aylin', 'İlker', 'bob'].map((name) => ({ name, online: true, lastSeen: null })));
    ctx.store.getState().setSearchPerson('AYLA');
    await runSearch(ctx);
    expect(search).toHaveBeenLastCalledWith('', 'Ayla', undefined);
    ctx.store.getState().setSearchPerson('ilk');
    await runSearch(ctx);
    expect(search).toHaveBeenLastCalledWith('', 'İlker', undefined);
    expect(ctx.store.getState().searchPersonFound).toBe('İlker');

    ctx.store.getState().setSearchPerson('ayl');
    await runSearch(ctx);
    expect(search).toHaveBeenCalledTimes(2);
    expect(ctx.store.getState()).toMatchObject({ searchPeopleMatched: ['Ayla', 'Aylin'], searchLoading: false });
    // Nobody by that part of a name: the host is asked as typed, and says so.
    ctx.store.getState().setSearchPerson('zed');
    await runSearch(ctx);
    expect(search).toHaveBeenLastCalledWith('', 'zed', undefined);
  });

  it('reports each new message from someone else once, for notifications', async () => {
    const api = fakeApi();
    const onIncoming = vi.fn();
    const ctx = { store: createAppStore(), api };
    startSync(ctx, { onIncoming });
    await vi.waitFor(() => expect(ctx.store.getState().session.me).toBe('alice'));
    api.emit({ type: 'message', message: roomMessage(1, 'bob') });
    api.emit({ type: 'message', message: roomMessage(1, 'bob') });
    api.emit({ type: 'message', message: roomMessage(2, 'alice') });
    expect(onIncoming.mock.calls.map(([message]) => message.id)).toEqual([1]);
  });

  it('asks for a direct chat and opens its conversation', async () => {
    const ctx = { store: createAppStore(), api: fakeApi() };
    const result = await startDirectChat(ctx, 'bob');
    expect(result.ok).toBe(true);
    expect(ctx.store.getState().activeConv).toBe('dm:1:2');
    expect(ctx.store.getState().contacts['bob']?.state).toBe('outgoing');
  });

  it('forgets the contact once a chat is ended, and keeps it when the host refuses', async () => {
    const chatLeave = vi
      .fn<AppApi['chatLeave']>()
      .mockResolvedValueOnce({ ok: false, error: { code: 'NO_CHAT_REQUEST', message: 'no open chat' } })
      .mockResolvedValueOnce({ ok: true, value: undefined });
    const ctx = { store: createAppStore(), api: fakeApi({ chatLeave }) };
    ctx.store.getState().upsertContact({ name: 'bob', state: 'accepted', conv: 'dm:1:2', since: 1 });
    expect((await endDirectChat(ctx, 'bob')).ok).toBe(false);
    expect(ctx.store.getState().contacts['bob']?.state).toBe('accepted');
    expect((await endDirectChat(ctx, 'bob')).ok).toBe(true);
    expect(chatLeave).toHaveBeenLastCalledWith('bob');
    expect(ctx.store.getState().contacts['bob']).toBeUndefined();
  });

  it('loads connected users and pending approvals once this app hosts the room', async () => {
    const hosting = { roomName: 'Office', port: 7171, addresses: [], loopbackOnly: true, fingerprint: null };
    const api = fakeApi({
      session: async () => ({ ok: true, value: { ...onlineSession('alice'), hosting } }),
      hostUsers: async () => ({ ok: true, value: [{ name: 'bob', connections: 1, addresses: ['10.0.0.2:5000'], clients: ['x/1'], muted: true }] }),
      hostPending: async () => ({ ok: true, value: [{ name: 'eve', createdAt: 5 }] }),
      hostBans: async () => ({ ok: true, value: [{ kind: 'address', value: '10.0.0.9', createdAt: 5 }] }),
    });
    const ctx = { store: createAppStore(), api };
    startSync(ctx);
    await vi.waitFor(() => expect(ctx.store.getState().hostPending.map((user) => user.name)).toEqual(['eve']));
    expect(ctx.store.getState().hostUsers[0]).toMatchObject({ name: 'bob', muted: true });
    expect(ctx.store.getState().hostBans).toEqual([{ kind: 'address', value: '10.0.0.9', createdAt: 5 }]);
  });

  it('remembers how the window left a room for the start screen, until it is in a room again', async () => {
    const offline = { ...onlineSession('bob'), status: 'offline' as const, me: null, roomName: null, server: null };
    const ctx = { store: createAppStore(), api: fakeApi({ session: async () => ({ ok: true, value: offline }) }) };
    handleEvent(ctx, { type: 'session', session: { ...onlineSession('bob'), roomName: 'Lab' } });
    await leaveRoom(ctx);
    expect(ctx.store.getState().exit).toEqual({ kind: 'left', room: 'Lab' });
    // Signing out from the start screen still names the room left.
    await signOut(ctx);
    expect(ctx.store.getState().exit).toEqual({ kind: 'signedOut', room: 'Lab' });
    handleEvent(ctx, { type: 'session', session: onlineSession('bob') });
    expect(ctx.store.getState().exit).toBeNull();
  });

  it('shows why a queued message is not stored yet, and clears it once the host stores it', () => {
    const store = createAppStore();
    const queued = { type: 'outbox', clientMsgId: 'c1', status: 'queued', target: { kind: 'room' }, text: 'hi', ts: 1 } as const;
    const busy = { code: 'INTERNAL', message: 'the host database is busy; try again' } as const;
    store.getState().updateOutbox(queued);
    store.getState().updateOutbox({ ...queued, ts: 2, error: busy });
    expect(store.getState().outbox.c1).toMatchObject({ status: 'queued', ts: 1, error: busy });
    store.getState().updateOutbox({ ...queued, status: 'sent', ts: 3 });
    expect(store.getState().outbox.c1).toMatchObject({ status: 'sent', error: null });
    // A late retry report does not bring back a stored message's error.
    store.getState().updateOutbox({ ...queued, ts: 4, error: busy });
    expect(store.getState().outbox.c1).toMatchObject({ status: 'sent', error: null });
  });

  it('forgets a refused message the user removed', () => {
    const store = createAppStore();
    const failed = { type: 'outbox', clientMsgId: 'c1', status: 'failed', target: { kind: 'room' }, text: 'hi', ts: 1 } as const;
    store.getState().updateOutbox(failed);
    store.getState().updateOutbox({ ...failed, clientMsgId: 'c2' });
    store.getState().removeOutbox('c1');
    expect(Object.keys(store.getState().outbox)).toEqual(['c2']);
  });
});
