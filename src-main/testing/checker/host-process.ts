/**
 * A host or cluster node as a real process (src-main/cli/host.ts), so the checker can kill it
 * with -9; outside vitest too, where testing/process.ts's CliProcess (tied to a test) cannot run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { SCRIPTS, scriptArgs } from '../scripts.js';

export interface HostProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts a host on `port` with these further arguments; resolves once it listens. */
export function startHostProcess(dir: string, port: number, args: string[] = []): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    [
      ...scriptArgs(SCRIPTS.host),
      ...['--bind', '127.0.0.1', '--port', String(port), '--data', dir, '--no-announce'],
      // Clients log in again after every fault, all from this machine's address.
      ...['--address-registrations-per-minute', '1000', '--logins-per-minute', '100000'],
      ...args,
    ],
    { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] },
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

/** Kills it with -9 and waits until it is gone. */
export async function killHost(host: HostProcess): Promise<void> {
  host.child.kill('SIGKILL');
  await host.exited;
}
