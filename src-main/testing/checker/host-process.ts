/**
 * A host or cluster node as a real process (src-main/cli/host.ts), so the checker can kill it
 * with -9; outside vitest too, where testing/process.ts's CliProcess (tied to a test) cannot run.
 * Its clock can be set off by libfaketime (Debian's libfaketime), preloaded into the process: the
 * whole process then reads the skewed time, every Date, timer stamp, TLS and database call, as on a
 * machine whose clock is wrong; an injected clock would skew only the code that takes it (RoomClock's
 * `local`, which core/cluster.test.ts sets), and the checker is there to find what else reads the time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTS, scriptArgs } from '../scripts.js';

export interface HostProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/** How far a skewed host's clock is off, either way. */
export const CLOCK_SKEW_MS = 3600_000;
/** How long a host may take to stop on SIGTERM, unless told. */
export const STOP_TIMEOUT_MS = 15_000;

/** Debian's libfaketime for multithreaded programs (node is one), under /usr/lib/<architecture>/faketime. */
const FAKETIME = (() => {
  try {
    return readdirSync('/usr/lib')
      .map((dir) => join('/usr/lib', dir, 'faketime', 'libfaketimeMT.so.1'))
      .find((path) => existsSync(path));
  } catch {
    return undefined;
  }
})();

/** Why a host's clock cannot be skewed here, or undefined when it can. */
export const faketimeMissing: string | undefined = FAKETIME
  ? undefined
  : 'libfaketime is not installed (/usr/lib/*/faketime/libfaketimeMT.so.1 is absent; .ci/run installs the Debian package libfaketime)';

/** A skew of CLOCK_SKEW_MS ahead or behind, drawn from `random`. */
export function drawSkew(random: () => number): number {
  return random() < 0.5 ? -CLOCK_SKEW_MS : CLOCK_SKEW_MS;
}

/** Starts a host on `port` with these further arguments, its clock `skewMs` off; resolves once it listens. */
export function startHostProcess(dir: string, port: number, args: string[] = [], skewMs = 0): Promise<HostProcess> {
  if (skewMs !== 0 && !FAKETIME) return Promise.reject(new Error(faketimeMissing));
  // The wall clock only: a skewed machine's monotonic clock (timers, intervals) still runs true.
  const clock = skewMs !== 0 ? { LD_PRELOAD: FAKETIME!, FAKETIME: `${skewMs > 0 ? '+' : '-'}${Math.abs(skewMs) / 1000}`, FAKETIME_DONT_FAKE_MONOTONIC: '1' } : {};
  const child = spawn(
    process.execPath,
    [
      ...scriptArgs(SCRIPTS.host),
      ...['--bind', '127.0.0.1', '--port', String(port), '--data', dir, '--no-announce'],
      // Clients log in again after every fault, all from this machine's address.
      ...['--address-registrations-per-minute', '1000', '--logins-per-minute', '100000'],
      ...args,
    ],
    { env: { ...process.env, TZ: 'UTC', ...clock }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-8000);
      if (/^listening \S+:\d+$/m.test(out)) resolve({ child, exited });
    });
    child.stderr!.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-8000)));
    child.once('exit', (code) => reject(new Error(`the host exited with ${code} before listening:\n${out}`)));
  });
}

/** A host's log file as lines; none before it wrote one. */
export function readLogLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0) : [];
}

/** Kills it with -9 and waits until it is gone. */
export async function killHost(host: HostProcess): Promise<void> {
  host.child.kill('SIGKILL');
  await host.exited;
}

/**
 * Stops it as an operator's restart does (SIGTERM: it closes its sessions and its store) and waits until it
 * is gone; one still there after `timeoutMs` is killed and the run fails.
 */
export async function stopHost(host: HostProcess, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  host.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([host.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
  clearTimeout(timer);
  if (stopped) return;
  await killHost(host);
  throw new Error(`the host did not stop within ${timeoutMs / 1000} s of SIGTERM`);
}
