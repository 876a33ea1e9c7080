/**
 * A worker thread of the reconnect bench (bench/reconnect.ts): holds its share of the ChatClients,
 * so that no single event loop holds them all, and answers the bench's commands about them.
 * Times are absolute ms (`performance.timeOrigin + performance.now()`), the same clock in every thread.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { ChatClient } from '../src-main/client/client.js';
import { ClientError } from '../src-main/client/errors.js';
import type { Account } from './common.js';

/** What the bench gives each worker. */
export interface ClientsData {
  accounts: Account[];
  port: number;
  tls: boolean;
  /** How many of this worker's first clients send to the room. */
  senders: number;
  sendEveryMs: number;
}

/**
 * One client's way back after the restart, in ms since the restart began: when the attempt that
 * succeeded began (its back-off over), when its socket was open (TCP, TLS handshake, pin checked),
 * when the host answered its login (after `hello`), when it was online (caught up); and how many
 * of its attempts the host was already listening for and that failed.
 */
export interface WayBack {
  attemptAt: number;
  openAt: number;
  loginAt: number;
  onlineAt: number;
  failedWhileListening: number;
  /** The code and message of its last failed attempt, if any. */
  lastFailure?: string;
}

/** What a worker reports once its clients hold every acknowledged message (or the wait ran out). */
export interface CaughtUp {
  /** When the last of its clients held every acknowledged message, or when the wait ran out (`lost` then says what is missing). */
  at: number;
  lost: number;
  duplicated: number;
  ways: WayBack[];
  /** The longest this worker's event loop stood still since the restart. */
  loopMaxMs: number;
  /** `presence` pushes its clients read since the restart, and the user states they listed. */
  presenceFrames: number;
  presenceStates: number;
}

/** The bench's commands, each answered once: `{ id, result }` or `{ id, error }`. */
export type ClientsCommand =
  | { id: number; kind: 'connect' }
  | { id: number; kind: 'startSending' }
  | { id: number; kind: 'restarting'; at: number }
  | { id: number; kind: 'listening'; at: number }
  | { id: number; kind: 'allOnline'; timeoutMs: number }
  | { id: number; kind: 'stopSending' }
  | { id: number; kind: 'caughtUp'; acknowledged: string[]; timeoutMs: number }
  | { id: number; kind: 'close' };

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the time `done()` first held, checking every few ms; rejects after `timeoutMs`. */
async function when(done: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
  return now();
}

/**
 * Times the client's steps by wrapping its private `addresses.open` and `rpc.call`: the product has no
 * hook for them and needs none. Reached by bracket access, which keeps their types: a rename fails the
 * typecheck, not the bench (it did once). `since()` is ms since the restart, `listening()` whether the
 * new host is up.
 */
function traceWayBack(client: ChatClient, since: () => number, listening: () => boolean): WayBack {
  const way: WayBack = { attemptAt: NaN, openAt: NaN, loginAt: NaN, onlineAt: NaN, failedWhileListening: 0 };
  const addresses = client['addresses'];
  const open = addresses.open.bind(addresses);
  addresses.open = async (options) => {
    way.attemptAt = since();
    const upAlready = listening();
    try {
      const opened = await open(options);
      way.openAt = since();
      return opened;
    } catch (error) {
      if (upAlready) way.failedWhileListening += 1;
      way.lastFailure = error instanceof ClientError ? `${error.code}: ${error.message}` : String(error);
      throw error;
    }
  };
  const rpc = client['rpc'];
  const call = rpc.call.bind(rpc);
  rpc.call = ((...args: Parameters<typeof call>) => {
    const answered = call(...args);
    if (args[1] === 'login') answered.then(() => (way.loginAt = since()), () => undefined);
    return answered;
  }) as typeof rpc.call;
  client.on('online', () => (way.onlineAt = since()));
  return way;
}

function run(data: ClientsData): void {
  const port = parentPort!;
  const clients = data.accounts.map(
    (account) =>
      new ChatClient({
        host: '127.0.0.1',
        port: data.port,
        name: account.name,
        token: account.token,
        tls: data.tls,
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
  let presenceFrames = 0;
  let presenceStates = 0;
  for (const client of clients) {
    client.on('presence', (push) => {
      presenceFrames += 1;
      presenceStates += push.users.length;
    });
  }
  let restartedAt = NaN;
  let listenedAt = Infinity;
  const ways = clients.map((client) => traceWayBack(client, () => now() - restartedAt, () => now() >= listenedAt));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const acknowledged: string[] = [];
  const sends: Promise<unknown>[] = [];
  let sendLoop: NodeJS.Timeout | undefined;

  const notOnline = (): string => {
    const states = new Map<string, number>();
    const failures = new Map<string, number>();
    for (const [index, client] of clients.entries()) {
      states.set(client.state, (states.get(client.state) ?? 0) + 1);
      const failure = ways[index]!.lastFailure ?? 'none';
      if (client.state !== 'online') failures.set(failure, (failures.get(failure) ?? 0) + 1);
    }
    const failed = ways.reduce((sum, way) => sum + way.failedWhileListening, 0);
    return `clients by state ${JSON.stringify(Object.fromEntries(states))}, last failures of those not online ${JSON.stringify(Object.fromEntries(failures))}, ${failed} attempts failed while the host listened`;
  };

  const commands = {
    connect: async () => {
      for (let start = 0; start < clients.length; start += 100) await Promise.all(clients.slice(start, start + 100).map((client) => client.connect()));
    },
    startSending: () => {
      const senders = clients.slice(0, data.senders);
      let counter = 0;
      sendLoop = setInterval(() => {
        for (const [index, sender] of senders.entries()) {
          // By account name: while the host restarts a client has no session.
          const clientMsgId = `${data.accounts[index]!.name}-${counter}`;
          sends.push(
            sender.send({ kind: 'room' }, `tick ${counter}`, clientMsgId).then((message) => {
              acknowledged.push(`${message.from}/${message.clientMsgId}`);
            }),
          );
        }
        counter += 1;
      }, data.sendEveryMs);
    },
    restarting: (at: number) => {
      restartedAt = at;
      presenceFrames = 0;
      presenceStates = 0;
      // How late this thread's timers ran (a client's back-off among them): its loop is busy with its other clients.
      loop.enable();
    },
    listening: (at: number) => {
      listenedAt = at;
    },
    allOnline: (timeoutMs: number) =>
      when(() => clients.every((client) => client.state === 'online'), timeoutMs, 'every client back online').catch((error: Error) => {
        throw new Error(`${error.message}: ${notOnline()}`);
      }),
    stopSending: async () => {
      clearInterval(sendLoop);
      await Promise.all(sends);
      return acknowledged;
    },
    caughtUp: async (keys: string[], timeoutMs: number): Promise<CaughtUp> => {
      const holdsAll = (index: number): boolean => keys.every((key) => received[index]!.has(key));
      const at = await when(() => clients.every((_, index) => holdsAll(index)), timeoutMs, 'every client caught up').catch(() => now());
      loop.disable();
      let lost = 0;
      let duplicated = 0;
      for (const counts of received) {
        for (const key of keys) if (!counts.has(key)) lost += 1;
        for (const count of counts.values()) if (count > 1) duplicated += count - 1;
      }
      return { at, lost, duplicated, ways, loopMaxMs: loop.max / 1e6, presenceFrames, presenceStates };
    },
    close: () => {
      clearInterval(sendLoop);
      // Closing rejects what is still in the outboxes; those were never acknowledged, so never counted.
      for (const send of sends) send.catch(() => undefined);
      for (const client of clients) client.close();
    },
  };

  const answer = async (command: ClientsCommand): Promise<unknown> => {
    switch (command.kind) {
      case 'connect':
        return commands.connect();
      case 'startSending':
        return commands.startSending();
      case 'restarting':
        return commands.restarting(command.at);
      case 'listening':
        return commands.listening(command.at);
      case 'allOnline':
        return commands.allOnline(command.timeoutMs);
      case 'stopSending':
        return commands.stopSending();
      case 'caughtUp':
        return commands.caughtUp(command.acknowledged, command.timeoutMs);
      case 'close':
        return commands.close();
    }
  };

  port.on('message', (command: ClientsCommand) => {
    answer(command).then(
      (result) => port.postMessage({ id: command.id, result }),
      (error: Error) => port.postMessage({ id: command.id, error: error.message }),
    );
  });
}

run(workerData as ClientsData);
