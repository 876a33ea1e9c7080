import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../src-shared/api.js';
import type { BridgeCall } from '../src-shared/bridge.js';
import { CALL_WAIT_MS, createBridgeApi, type BridgeHandlers } from './api.js';

/** Stands in for the browser shell's socket: records frames, plays answers and drops. */
class FakeShell {
  sockets: { handlers: BridgeHandlers; sent: BridgeCall[] }[] = [];

  connect = (_url: string, handlers: BridgeHandlers) => {
    const socket = { handlers, sent: [] as BridgeCall[] };
    this.sockets.push(socket);
    return { send: (text: string) => socket.sent.push(JSON.parse(text) as BridgeCall) };
  };

  get current() {
    return this.sockets.at(-1)!;
  }

  answer(call: BridgeCall, value: unknown) {
    this.current.handlers.message(JSON.stringify({ id: call.id, result: { ok: true, value } }));
  }
}

describe('the browser bridge', () => {
  let shell: FakeShell;
  beforeEach(() => {
    vi.useFakeTimers();
    shell = new FakeShell();
  });
  afterEach(() => vi.useRealTimers());

  it('sends each call as {id, call, args} and resolves it with the matching answer', async () => {
    const api = createBridgeApi('ws://x/api?token=t', shell.connect);
    shell.current.handlers.open();
    const history = api.history('room', 40);
    const users = api.users();
    const [historyCall, usersCall] = shell.current.sent;
    expect(historyCall).toMatchObject({ call: 'history', args: ['room', 40] });
    shell.answer(usersCall!, []);
    shell.answer(historyCall!, { messages: [], hasMore: false });
    expect(await users).toEqual({ ok: true, value: [] });
    expect(await history).toEqual({ ok: true, value: { messages: [], hasMore: false } });
  });

  it('can be awaited as a value (it is not a thenable) and carries a call it does not know to the shell to refuse', async () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    shell.current.handlers.open();
    expect(await Promise.resolve(api)).toBe(api);
    const refused = (api as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>).deleteEverything!(1);
    const [call] = shell.current.sent;
    expect(call).toMatchObject({ call: 'deleteEverything', args: [1] });
    const error = { code: 'INVALID_ARGUMENT', message: 'unknown call "deleteEverything"' };
    shell.current.handlers.message(JSON.stringify({ id: call!.id, result: { ok: false, error } }));
    expect(await refused).toEqual({ ok: false, error });
  });

  it('hands every event frame to every listener until it unsubscribes', () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    shell.current.handlers.open();
    const seen: AppEvent[] = [];
    const stop = api.onEvent((event) => seen.push(event));
    const event: AppEvent = { type: 'presence', users: [{ user: 'bob', online: true, ts: 1 }] };
    shell.current.handlers.message(JSON.stringify({ event }));
    stop();
    shell.current.handlers.message(JSON.stringify({ event }));
    expect(seen).toEqual([event]);
  });

  it('holds calls made while the socket is down and sends them once it opens', async () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    const users = api.users();
    expect(shell.current.sent).toEqual([]);
    shell.current.handlers.open();
    shell.answer(shell.current.sent[0]!, [{ name: 'bob', online: true, lastSeen: null }]);
    expect((await users).ok).toBe(true);
  });

  it('answers a waiting call with NOT_CONNECTED when the socket stays down', async () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    const users = api.users();
    vi.advanceTimersByTime(CALL_WAIT_MS);
    expect(await users).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
  });

  it('reconnects after a drop, reports reconnecting meanwhile and the current session after', async () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    const sessions: string[] = [];
    api.onEvent((event) => {
      if (event.type === 'session') sessions.push(event.session.status);
    });
    shell.current.handlers.open();
    const inFlight = api.users();
    shell.current.handlers.close();
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
    expect(sessions).toEqual(['reconnecting']);
    vi.advanceTimersByTime(5_000);
    expect(shell.sockets).toHaveLength(2);
    shell.current.handlers.open();
    const sessionCall = shell.current.sent[0]!;
    expect(sessionCall.call).toBe('session');
    shell.answer(sessionCall, { status: 'online', me: 'alice', roomName: 'r', server: null, hosting: null, error: null });
    await vi.waitFor(() => expect(sessions).toEqual(['reconnecting', 'online']));
  });

  it('keeps the user in the reconnecting notice after a host call told who it is', async () => {
    const api = createBridgeApi('ws://x/api', shell.connect);
    const sessions: (string | null)[] = [];
    api.onEvent((event) => {
      if (event.type === 'session') sessions.push(event.session.me);
    });
    shell.current.handlers.open();
    const hosting = api.host({ roomName: 'r', port: 7171, name: 'alice', password: 'pw' });
    shell.answer(shell.current.sent[0]!, { status: 'online', me: 'alice', roomName: 'r', server: null, hosting: null, error: null });
    await hosting;
    shell.current.handlers.close();
    expect(sessions).toEqual(['alice']);
  });

  it('keeps retrying with growing waits while the shell refuses the socket', () => {
    createBridgeApi('ws://x/api', shell.connect);
    shell.current.handlers.close();
    vi.advanceTimersByTime(250);
    expect(shell.sockets).toHaveLength(2);
    shell.current.handlers.close();
    vi.advanceTimersByTime(250);
    expect(shell.sockets).toHaveLength(2);
    vi.advanceTimersByTime(250);
    expect(shell.sockets).toHaveLength(3);
  });
});
