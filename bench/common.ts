/**
 * What every workload shares: a temporary data folder seeded with accounts and
 * session tokens, server processes spawned and stopped, percentiles and peak memory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nameSkeleton } from '../src-shared/text.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { hashPassword } from '../src-main/server/password.js';
import { openStore } from '../src-main/store/store.js';
import type { AsyncStore, SessionStore, Store } from '../src-main/store/types.js';
import { buildServers } from './build.js';
import type { PhaseReading, ProbeReading, ProbeRequest } from './probe.js';

/**
 * How bench clients reach the host and the baseline: TLS, as every default install does, unless
 * the run was started with --plain; mosquitto and nats-server follow it too (bench/peers.ts), ngircd is always plain TCP.
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
export async function seedAccounts(
  store: Pick<Store & SessionStore, 'createUser' | 'createSession'> | Pick<AsyncStore, 'createUser' | 'createSession'>,
  count: number,
  prefix = 'user',
): Promise<Account[]> {
  const passwordHash = await hashPassword('bench-password', 4);
  const now = Date.now();
  const accounts: Account[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    const user = await store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: now });
    const token = randomBytes(32).toString('base64url');
    await store.createSession(createHash('sha256').update(token).digest('hex'), user.id, now);
    accounts.push({ id: user.id, name, token });
  }
  return accounts;
}

export async function seedDataDir(dataDir: string, count: number): Promise<Account[]> {
  const store = openStore(databaseFile(dataDir));
  try {
    return await seedAccounts(store, count);
  } finally {
    await store.close();
  }
}

export interface ServerProcess {
  port: number;
  pid: number;
  /** Peak resident memory so far, from /proc (VmHWM), in MB. */
  peakRssMb(): number;
  /** Resident memory now (VmRSS), in MB. */
  rssMb(): number;
  /** CPU time (user + system) the process has used so far, from /proc/<pid>/stat, in seconds. */
  cpuSeconds(): number;
  /** The bench probe inside a Node server (bench/probe.ts); absent for ngircd, mosquitto and nats-server. */
  probe?: Probe;
  stop(): Promise<void>;
}

export interface Probe {
  /** Starts a new event-loop delay measurement (and a CPU profile when `measure.profileDir` is set). */
  reset(): Promise<void>;
  read(): Promise<ProbeReading>;
  /** The loop delay since the last phase mark or reset; starts the next phase. */
  phase(): Promise<PhaseReading>;
  /** Writes a V8 heap snapshot into `file`; resolves with its path. */
  heapSnapshot(file: string): Promise<string>;
}

/**
 * Options of the whole run for the server processes: extra Node flags for the host (`--host-flags`),
 * a folder for a CPU profile of each host workload's measured window (`--cpu-profile`),
 * whether to run the servers' TypeScript through tsx (`--tsx`) instead of a bundle (bench/build.ts),
 * and the CPUs every room server runs on (`--pin`, see pinServersApart).
 */
export const measure: { hostNodeFlags: string[]; profileDir?: string; tsx: boolean; serverCpus?: string } = { hostNodeFlags: [], tsx: false };

/**
 * `--pin`: the room servers (the host, the floor, ngircd, mosquitto, nats-server) on CPU 0, this process (the load
 * generator, its threads included) on the others. Sharing cores, the generator empties the server's
 * caches between two messages (docs/BENCHMARKS.md, "Light: why its first writes are slow (light27)").
 */
export function pinServersApart(): void {
  const cpus = availableParallelism();
  if (cpus < 2) throw new Error('--pin needs at least 2 CPUs: one for the servers, the rest for the load generator');
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', `1-${cpus - 1}`, String(process.pid)], { stdio: 'ignore' });
  measure.serverCpus = '0';
}

/** How to start a room server's `command`: on the servers' CPUs once pinServersApart ran (taskset execs it: the pid is the server's). */
export function serverCommand(command: string, args: string[]): [string, string[]] {
  return measure.serverCpus === undefined ? [command, args] : ['taskset', ['--cpu-list', measure.serverCpus, command, ...args]];
}

/** Starts bench/<script> (bundled, or through tsx with `measure.tsx`) in its own Node process and waits for `listening <port>`. */
export async function spawnServer(script: 'host.ts' | 'baseline-server.ts', args: string[] = []): Promise<ServerProcess> {
  const flags = script === 'host.ts' ? measure.hostNodeFlags : [];
  if (script === 'host.ts' && !transport.tls) args = [...args, '--plain'];
  if (script === 'baseline-server.ts' && transport.tls) args = [...args, '--tls'];
  const entry = measure.tsx
    ? ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))]
    : [join(await buildServers(), script.replace(/\.ts$/, '.js'))];
  const child = spawn(...serverCommand(process.execPath, [...flags, ...entry, ...args]), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^listening (\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
  const profileDir = script === 'host.ts' ? measure.profileDir : undefined;
  // The host writes its profile there; into a missing folder it would die and the bench wait for its answer forever.
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  return { ...processFigures(child), port, probe: probeOf(child, profileDir) };
}

/** What the bench reads of any server process it started: memory, CPU, and how to stop it. */
export function processFigures(child: ChildProcess): Omit<ServerProcess, 'port'> {
  const pid = child.pid!;
  return {
    pid,
    peakRssMb: () => memoryMb(pid, 'VmHWM'),
    rssMb: () => memoryMb(pid, 'VmRSS'),
    cpuSeconds: () => cpuSeconds(pid),
    stop: () => stopChild(child),
  };
}

/** Requests to bench/probe.ts over the IPC channel, answered in order. */
function probeOf(child: ChildProcess, profileDir: string | undefined): Probe {
  const ask = <T>(request: ProbeRequest): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (answer) => resolve(answer as T));
      child.send(request);
    });
  let profiles = 0;
  return {
    reset: () => ask({ probe: 'reset', profileFile: profileDir && join(profileDir, `host-${child.pid}-${++profiles}.cpuprofile`) }),
    read: async () => (await ask<{ reading: ProbeReading }>({ probe: 'read' })).reading,
    phase: async () => (await ask<{ reading: PhaseReading }>({ probe: 'phase' })).reading,
    heapSnapshot: async (file) => (await ask<{ file: string }>({ probe: 'heap', file })).file,
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
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

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) " start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * What the server process shows at the end of a workload, with every client still connected:
 * its CPU time since `cpuBefore`, memory now and at peak, and (Node servers) the loop delay.
 */
export async function serverFigures(server: ServerProcess, cpuBefore: number): Promise<Result> {
  const figures: Result = {
    workload: '',
    cpu_s: round(server.cpuSeconds() - cpuBefore, 2),
    rss_mb: server.rssMb(),
    peak_rss_mb: server.peakRssMb(),
  };
  if (server.probe) {
    const reading = await server.probe.read();
    figures.loop_p99_ms = reading.loopP99Ms;
    figures.loop_max_ms = reading.loopMaxMs;
    figures.heap_used_mb = reading.heapUsedMb;
    figures.heap_total_mb = reading.heapTotalMb;
    figures.external_mb = reading.externalMb;
    if (reading.profileFile) figures.cpu_profile = reading.profileFile;
  }
  return figures;
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
