/**
 * Reconnect storm: many ChatClients (reconnect, token resume, catch-up, outbox) online
 * while a few send; the host process is stopped and started again on the same port
 * and data. Every client must be back and hold every message exactly once.
 * Where the time after the restart goes is printed per phase (see `Phases`).
 * The clients live in worker threads (bench/reconnect-clients.ts, `threads`), none in the loop that
 * stops and starts the host and reads the figures.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ThreadCalls, typescriptWorker } from '../src-main/store/typescript-worker.js';
import { buildServers } from './build.js';
import { type Result, measure, percentile, transport, removeDir, round, seedDataDir, serverFigures, sleep, spawnServer, tempDataDir } from './common.js';
import type { CaughtUp, ClientsCommand, ClientsData, WayBack } from './reconnect-clients.js';

export interface ReconnectOptions {
  clients: number;
  senders: number;
  /** Worker threads holding the clients (1 by default; see THREADS). */
  threads?: number;
}

const SEND_EVERY_MS = 50;
/** How long every client has to be back online, then to hold every acknowledged message. */
const WAIT_MS = 30_000;
/**
 * Threads holding the clients by default. On 2 shared cores, with 2 to 4 threads some clients were
 * still not back after 30 s: they waited in the host's accept queue past their 10 s connect timeout
 * and queued again (docs/BENCHMARKS.md, "Catch-up after a restart (catchup16)"), a limit of the
 * host still to fix. One thread paces the attempts as one loop did.
 */
const THREADS = 1;

const now = (): number => performance.timeOrigin + performance.now();

type Command = ClientsCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** A worker thread with its share of the clients, and its commands as calls. */
interface Clients {
  ask<T = void>(command: Command): Promise<T>;
  worker: Worker;
}

/**
 * The clients' code runs bundled, as the app's client does (`--tsx`: through tsx, as the servers then
 * do): what the generator's CPU measures is then the product's code, not also tsx's loader and the
 * helpers it wraps around every closure made per frame.
 */
async function startClients(data: ClientsData): Promise<Clients> {
  const worker = measure.tsx
    ? typescriptWorker(new URL('./reconnect-clients.ts', import.meta.url), data)
    : new Worker(join(await buildServers(), 'reconnect-clients.js'), { workerData: data });
  const calls = new ThreadCalls<{ id: number; result?: unknown; error?: string }>(worker, 'a client thread');
  return {
    worker,
    ask: async <T>(command: Command) => {
      const reply = await calls.call((id) => ({ ...command, id }));
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply.result as T;
    },
  };
}

/** p50 and max of one phase over every client, and that phase of the client that came back last, in s. */
function phases(ways: WayBack[], listenedAt: number): Record<string, number> {
  const spans: Record<string, (way: WayBack) => number> = {
    // Back-off: from the host listening (or the restart, if the attempt began while it was down) to the attempt that succeeded.
    wait: (way) => Math.max(0, way.attemptAt - listenedAt),
    handshake: (way) => way.openAt - way.attemptAt,
    login: (way) => way.loginAt - way.openAt,
    catchup: (way) => way.onlineAt - way.loginAt,
  };
  const last = ways.reduce((latest, way) => (way.onlineAt > latest.onlineAt ? way : latest));
  const figures: Record<string, number> = {};
  for (const [name, span] of Object.entries(spans)) {
    const values = ways.map(span);
    figures[`${name}_p50_s`] = round(percentile(values, 0.5) / 1000, 2);
    figures[`${name}_max_s`] = round(Math.max(...values) / 1000, 2);
    figures[`last_${name}_s`] = round(span(last) / 1000, 2);
  }
  figures.failed_attempts_while_listening = ways.reduce((sum, way) => sum + way.failedWhileListening, 0);
  return figures;
}

export async function reconnect(options: ReconnectOptions): Promise<Result> {
  const dataDir = tempDataDir();
  const accounts = await seedDataDir(dataDir, options.clients);
  let server = await spawnServer('host.ts', ['--data', dataDir]);
  const port = server.port;
  const threads = Math.min(options.threads ?? THREADS, accounts.length);
  const share = Math.ceil(accounts.length / threads);
  // The senders are the first accounts, all in the first thread, which alone knows what was acknowledged.
  const groups = await Promise.all(
    Array.from({ length: threads }, (_, index) =>
      startClients({
        accounts: accounts.slice(index * share, (index + 1) * share),
        port,
        tls: transport.tls,
        senders: index === 0 ? options.senders : 0,
        sendEveryMs: SEND_EVERY_MS,
      }),
    ),
  );
  const all = <T = void>(command: Command): Promise<T[]> => Promise.all(groups.map((group) => group.ask<T>(command)));
  try {
    await all({ kind: 'connect' });
    await groups[0]!.ask({ kind: 'startSending' });
    // The steady chat alone (SEND_EVERY_MS to every client) costs the host this much CPU per second.
    const steadyFrom = { at: performance.now(), cpu: server.cpuSeconds() };
    await sleep(1000);
    const steadyCpuPerS = (server.cpuSeconds() - steadyFrom.cpu) / ((performance.now() - steadyFrom.at) / 1000);

    const restartedAt = now();
    await all({ kind: 'restarting', at: restartedAt });
    // The load generator's own CPU (every thread of this process): at the recovery's pace, it competes with the host for the cores.
    const benchCpuBefore = process.cpuUsage();
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    await server.stop();
    const stoppedAfter = (now() - restartedAt) / 1000;
    server = await spawnServer('host.ts', ['--data', dataDir, '--port', String(port)]);
    const listenedAt = now();
    await all({ kind: 'listening', at: listenedAt });
    await server.probe!.reset();
    const cpuBefore = server.cpuSeconds();
    const onlineAt = await all<number>({ kind: 'allOnline', timeoutMs: WAIT_MS });
    const acknowledged = await groups[0]!.ask<string[]>({ kind: 'stopSending' });
    const caughtUp = await all<CaughtUp>({ kind: 'caughtUp', acknowledged, timeoutMs: WAIT_MS });
    const recovered = (Math.max(...caughtUp.map((group) => group.at)) - restartedAt) / 1000;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    benchLoop.disable();
    const ways = caughtUp.flatMap((group) => group.ways);
    return {
      // The restarted host, from when it listens until every client is caught up.
      ...(await serverFigures(server, cpuBefore)),
      workload: 'reconnect',
      clients: accounts.length,
      generator_threads: threads,
      messages: acknowledged.length,
      stop_s: round(stoppedAfter, 2),
      host_start_s: round((listenedAt - restartedAt) / 1000, 2),
      all_online_s: round((Math.max(...onlineAt) - restartedAt) / 1000, 2),
      recovered_s: round(recovered, 2),
      steady_host_cpu_per_s: round(steadyCpuPerS, 2),
      bench_cpu_s: round((benchCpu.user + benchCpu.system) / 1e6, 2),
      // The longest any of the generator's loops (the threads' and this one's) stood still.
      bench_loop_max_ms: round(Math.max(benchLoop.max / 1e6, ...caughtUp.map((group) => group.loopMaxMs)), 0),
      lost: caughtUp.reduce((sum, group) => sum + group.lost, 0),
      duplicated: caughtUp.reduce((sum, group) => sum + group.duplicated, 0),
      // What the clients read of presence from the restart on: pushes, and the states they listed.
      presence_frames: caughtUp.reduce((sum, group) => sum + group.presenceFrames, 0),
      presence_states: caughtUp.reduce((sum, group) => sum + group.presenceStates, 0),
      ...phases(ways, listenedAt - restartedAt),
    };
  } finally {
    await Promise.all(groups.map((group) => group.ask({ kind: 'close' }).catch(() => undefined)));
    await Promise.all(groups.map((group) => group.worker.terminate()));
    await server.stop();
    removeDir(dataDir);
  }
}
