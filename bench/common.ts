/**
 * What every workload shares: a temporary data folder seeded with accounts and
 * session tokens, server processes spawned and stopped, percentiles and peak memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nameSkeleton } from '../src-shared/text.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { hashPassword } from '../src-main/server/password.js';
import { openStore } from '../src-main/store/store.js';
import type { SessionStore, Store } from '../src-main/store/types.js';

/**
 * How bench clients reach the host: TLS, as every default install does, unless the run
 * was started with --plain. The bare fan-out baseline is always plain TCP.
 */
export const transport = { tls: true };

export interface Result {
  workload: string;
  [field: string]: number | string | boolean;
}

export interface Account {
  id: number;
  name: string;
  token: string;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'lanchat-bench-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const databaseFile = (dataDir: string): string => join(dataDir, 'chat.sqlite');

/**
 * Creates `count` accounts straight in the database, each with a session token, so
 * clients log in by token (the real login path, minus thousands of scrypt runs).
 * All share one password hash at a low cost; nobody logs in with it.
 */
export async function seedAccounts(store: Store & SessionStore, count: number, prefix = 'user'): Promise<Account[]> {
  const passwordHash = await hashPassword('bench-password', 4);
  const now = Date.now();
  const accounts: Account[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    const user = store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: now });
    const token = randomBytes(32).toString('base64url');
    store.createSession(createHash('sha256').update(token).digest('hex'), user.id, now);
    accounts.push({ id: user.id, name, token });
  }
  return accounts;
}

export async function seedDataDir(dataDir: string, count: number): Promise<Account[]> {
  const store = openStore(databaseFile(dataDir));
  try {
    return await seedAccounts(store, count);
  } finally {
    store.close();
  }
}

export interface ServerProcess {
  port: number;
  pid: number;
  /** Peak resident memory so far, from /proc (VmHWM), in MB. */
  peakRssMb(): number;
  /** Resident memory now (VmRSS), in MB. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Starts bench/<script> in its own Node process and waits for `listening <port>`. */
export async function spawnServer(script: 'host.ts' | 'baseline-server.ts', args: string[] = []): Promise<ServerProcess> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  if (script === 'host.ts' && !transport.tls) args = [...args, '--plain'];
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^listening (\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
  return {
    port,
    pid: child.pid!,
    peakRssMb: () => memoryMb(child.pid!, 'VmHWM'),
    rssMb: () => memoryMb(child.pid!, 'VmRSS'),
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return round(kb / 1024, 1);
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(samples: number[], fraction: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `done()` holds, checking every few ms; rejects after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}
