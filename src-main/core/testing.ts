/** What the core's tests start: the app as a shell runs it. */
import type { AppEvent, Result, SessionView } from '../../src-shared/api.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, unwrap, WAIT_MS, waitFor } from '../testing/harness.js';
import { AppCore, type AppCoreOptions } from './app.js';
import { ResumingCore } from './resume.js';

/** The app as a shell runs it (rejoining at start); `stop()` is quitting it, also pushed to `cleanups`. */
export function startResumingApp(profileDir: string, cleanups: (() => Promise<void> | void)[], retryDelays?: { minMs: number; maxMs: number }) {
  const core = new ResumingCore(new AppCore({ profileDir, passwordCost: TEST_PASSWORD_COST }), profileDir, { retryDelays });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await core.shutdown();
  };
  cleanups.push(stop);
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  const call = async <T>(name: string, ...args: unknown[]): Promise<T> => {
    const result = (await core.dispatch(name, args)) as Result<T>;
    if (!result.ok) throw new Error(`${name}: ${result.error.code}: ${result.error.message}`);
    return result.value;
  };
  /** The session once it is in `status`, asked every 20 ms for up to `timeoutMs`. */
  const untilStatus = async (status: SessionView['status'], timeoutMs: number): Promise<SessionView> => {
    for (const started = Date.now(); Date.now() - started < timeoutMs; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const view = await call<SessionView>('session');
      if (view.status === status) return view;
    }
    throw new Error(`the session never became ${status}`);
  };
  return { core, events, call, stop, untilStatus };
}

/** An app with end-to-end encryption on, in a profile folder of its own, and what it emitted; both go with `cleanups`. */
export function e2eeCore(
  cleanups: (() => Promise<void> | void)[],
  prefix = 'lanchat-e2ee-app-',
  options: Partial<AppCoreOptions> = {},
): { core: AppCore; events: AppEvent[]; dir: string } {
  const dir = tempDir(prefix);
  const core = new AppCore({ profileDir: dir, passwordCost: TEST_PASSWORD_COST, endToEnd: true, ...options });
  cleanups.push(() => removeDir(dir));
  cleanups.push(() => core.shutdown());
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  return { core, events, dir };
}

/** What an own message became once the outbox reports it sent (or why it failed). */
export async function sent(events: AppEvent[], clientMsgId: string, timeoutMs?: number): Promise<Extract<AppEvent, { type: 'outbox' }>> {
  let found: Extract<AppEvent, { type: 'outbox' }> | undefined;
  await waitFor(
    () => {
      found = events.find((event): event is Extract<AppEvent, { type: 'outbox' }> => event.type === 'outbox' && event.clientMsgId === clientMsgId && (event.status === 'sent' || event.status === 'failed'));
      return found !== undefined;
    },
    timeoutMs ?? WAIT_MS,
    `message ${clientMsgId} sent or failed`,
  );
  return found!;
}

/** `alice` hosts the room Lab and `bob` joins it; with `chatting`, they are in a direct chat both accepted. Resolves with the port. */
export async function hostedRoom(alice: AppCore, bob: AppCore, chatting = true): Promise<number> {
  const { hosting } = unwrap(await alice.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
  unwrap(await bob.join({ host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' }));
  if (chatting) {
    unwrap(await alice.chatRequest('bob'));
    unwrap(await bob.chatAnswer('alice', true));
  }
  return hosting!.port;
}
