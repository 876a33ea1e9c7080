/**
 * Stopping a child process a test started, within a bound: a teardown that waits for an exit without
 * one runs out of the test's time and leaves the process running. Free of vitest: the e2e shells use it.
 */
import type { ChildProcess } from 'node:child_process';

/** Whether the process has exited, by a code or by a signal (`exitCode` alone stays null after a signal). */
export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', done);
      resolve(false);
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', done);
  });
}

/**
 * SIGTERM, and SIGKILL if it has not exited `graceMs` later; resolves once it has exited, or `killWaitMs`
 * after the SIGKILL (a process in uninterruptible sleep), never later.
 */
export async function stopChild(child: ChildProcess, { graceMs = 10_000, killWaitMs = 5_000 } = {}): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await exit(child, graceMs)) return;
  child.kill('SIGKILL');
  await exit(child, killWaitMs);
}
