/**
 * Reconnect storm: many ChatClients (reconnect, token resume, catch-up, outbox) online
 * while a few send; the host process is stopped and started again on the same port
 * and data. Every client must be back and hold every message exactly once.
 * Where the time after the restart goes is printed per phase (see `Phases`).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ChatClient } from '../src-main/client/client.js';
import { type Result, percentile, transport, removeDir, round, seedDataDir, serverFigures, sleep, spawnServer, tempDataDir, until } from './common.js';

export interface ReconnectOptions {
  clients: number;
  senders: number;
}

const SEND_EVERY_MS = 50;

/**
 * One client's way back after the restart, in ms since the restart began: when the attempt that
 * succeeded began (its back-off over), when its socket was open (TCP, TLS handshake, pin checked),
 * when the host answered its login (after `hello`), when it was online (caught up); and how many
 * of its attempts the host was already listening for and that failed.
 */
interface WayBack {
  attemptAt: number;
  openAt: number;
  loginAt: number;
  onlineAt: number;
  failedWhileListening: number;
  /** The code of its last failed attempt, if any. */
  lastFailure?: string;
}

/**
 * Times the client's steps by wrapping its private `openAny` and `rpc.call`: the product has no
 * hook for them and needs none. `now()` is ms since the restart, `listening()` whether the new host is up.
 */
function traceWayBack(client: ChatClient, now: () => number, listening: () => boolean): WayBack {
  const way: WayBack = { attemptAt: NaN, openAt: NaN, loginAt: NaN, onlineAt: NaN, failedWhileListening: 0 };
  const steps = client as unknown as {
    openAny(): Promise<unknown>;
    rpc: { call(connection: unknown, type: string, ...rest: unknown[]): Promise<unknown> };
  };
  const openAny = steps.openAny.bind(client);
  steps.openAny = async () => {
    way.attemptAt = now();
    const upAlready = listening();
    try {
      const opened = await openAny();
      way.openAt = now();
      return opened;
    } catch (error) {
      if (upAlready) way.failedWhileListening += 1;
      way.lastFailure = (error as { code?: string }).code ?? String(error);
      throw error;
    }
  };
  const call = steps.rpc.call.bind(steps.rpc);
  steps.rpc.call = (connection, type, ...rest) => {
    const answered = call(connection, type, ...rest);
    if (type === 'login') answered.then(() => (way.loginAt = now()), () => undefined);
    return answered;
  };
  client.on('online', () => (way.onlineAt = now()));
  return way;
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
  const clients = accounts.map(
    (account) =>
      new ChatClient({
        host: '127.0.0.1',
        port,
        name: account.name,
        token: account.token,
        tls: transport.tls,
        backoffMinMs: 200,
        backoffMaxMs: 2000,
      }),
  );
  /** Per client, how many times each (sender, clientMsgId) arrived. */
  const received = clients.map(() => new Map<string, number>());
  clients.forEach((client, index) => {
    client.on('message', (message) => {
      const key = `${message.from}/${message.clientMsgId}`;
      received[index]!.set(key, (received[index]!.get(key) ?? 0) + 1);
    });
  });
  let restartedAt = NaN;
  let listenedAt = Infinity;
  const sinceRestart = (): number => performance.now() - restartedAt;
  const ways = clients.map((client) => traceWayBack(client, sinceRestart, () => sinceRestart() >= listenedAt));
  const acknowledged: string[] = [];
  const sends: Promise<unknown>[] = [];
  let sending = true;
  let sendLoop: NodeJS.Timeout | undefined;
  try {
    for (let start = 0; start < clients.length; start += 100) await Promise.all(clients.slice(start, start + 100).map((client) => client.connect()));
    const senders = clients.slice(0, options.senders);
    let counter = 0;
    sendLoop = setInterval(() => {
      if (!sending) return;
      for (const [index, sender] of senders.entries()) {
        // By account name: while the host restarts a client has no session.
        const clientMsgId = `${accounts[index]!.name}-${counter}`;
        sends.push(
          sender.send({ kind: 'room' }, `tick ${counter}`, clientMsgId).then((message) => {
            acknowledged.push(`${message.from}/${message.clientMsgId}`);
          }),
        );
      }
      counter += 1;
    }, SEND_EVERY_MS);
    // The steady chat alone (SEND_EVERY_MS to every client) costs the host this much CPU per second.
    const steadyFrom = { at: performance.now(), cpu: server.cpuSeconds() };
    await sleep(1000);
    const steadyCpuPerS = (server.cpuSeconds() - steadyFrom.cpu) / ((performance.now() - steadyFrom.at) / 1000);

    restartedAt = performance.now();
    // The load generator's own CPU (1,000 TLS clients in this process): at the recovery's pace, it competes with the host for the cores.
    const benchCpuBefore = process.cpuUsage();
    // How late the load generator's own timers ran (a client's back-off among them): its loop is busy with the other clients.
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    await server.stop();
    const stoppedAfter = sinceRestart() / 1000;
    server = await spawnServer('host.ts', ['--data', dataDir, '--port', String(port)]);
    listenedAt = sinceRestart();
    await server.probe!.reset();
    const cpuBefore = server.cpuSeconds();
    await until(() => clients.every((client) => client.state === 'online'), 30_000, 'every client back online').catch((error: Error) => {
      const states = new Map<string, number>();
      for (const client of clients) states.set(client.state, (states.get(client.state) ?? 0) + 1);
      const failures = new Map<string, number>();
      for (const [index, way] of ways.entries()) {
        if (clients[index]!.state !== 'online') failures.set(way.lastFailure ?? 'none', (failures.get(way.lastFailure ?? 'none') ?? 0) + 1);
      }
      const failed = ways.reduce((sum, way) => sum + way.failedWhileListening, 0);
      throw new Error(
        `${error.message}: clients by state ${JSON.stringify(Object.fromEntries(states))}, last failures of those not online ${JSON.stringify(Object.fromEntries(failures))}, ${failed} attempts failed while the host listened`,
      );
    });
    const backAfter = (performance.now() - restartedAt) / 1000;
    sending = false;
    clearInterval(sendLoop);
    await Promise.all(sends);
    const holdsAll = (index: number): boolean => acknowledged.every((key) => received[index]!.has(key));
    await until(() => clients.every((_, index) => holdsAll(index)), 30_000, 'every client caught up').catch(() => undefined);
    const recovered = (performance.now() - restartedAt) / 1000;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    benchLoop.disable();
    let lost = 0;
    let duplicated = 0;
    for (const counts of received) {
      for (const key of acknowledged) if (!counts.has(key)) lost += 1;
      for (const count of counts.values()) if (count > 1) duplicated += count - 1;
    }
    return {
      // The restarted host, from when it listens until every client is caught up.
      ...(await serverFigures(server, cpuBefore)),
      workload: 'reconnect',
      clients: clients.length,
      messages: acknowledged.length,
      stop_s: round(stoppedAfter, 2),
      host_start_s: round(listenedAt / 1000, 2),
      all_online_s: round(backAfter, 2),
      recovered_s: round(recovered, 2),
      steady_host_cpu_per_s: round(steadyCpuPerS, 2),
      bench_cpu_s: round((benchCpu.user + benchCpu.system) / 1e6, 2),
      bench_loop_max_ms: round(benchLoop.max / 1e6, 0),
      lost,
      duplicated,
      ...phases(ways, listenedAt),
    };
  } finally {
    sending = false;
    clearInterval(sendLoop);
    // Closing rejects what is still in the outboxes; those were never acknowledged, so never counted.
    for (const send of sends) send.catch(() => undefined);
    for (const client of clients) client.close();
    await server.stop();
    removeDir(dataDir);
  }
}
