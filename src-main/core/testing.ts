/** What the core's tests start: the app as a shell runs it. */
import type { AppEvent, Result } from '../../src-shared/api.js';
import { TEST_PASSWORD_COST } from '../testing/harness.js';
import { AppCore } from './app.js';
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
  return { core, events, call, stop };
}
