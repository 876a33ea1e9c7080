/**
 * One run of the checker against one host as a real process: a seeded workload of the
 * app's own clients (ChatClient, with its outbox) sending through a relay, faults at
 * scheduled points of the workload (kill -9 and restart of the host, a link cut in the
 * middle of a frame), then the recorded history and every user's final view checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import type { ChatClient } from '../../client/client.js';
import { login, removeDir, seedIdentity, seedUsers, tempDir, waitFor } from '../harness.js';
import { freePort } from '../ports.js';
import { seededRandom } from '../prng.js';
import { SCRIPTS, scriptArgs } from '../scripts.js';
import { type Anomaly, type History, check } from './check.js';
import { LinkProxy } from './proxy.js';

export type FaultKind = 'kill' | 'link-cut';
export const SINGLE_HOST_FAULTS: readonly FaultKind[] = ['kill', 'link-cut'];

export interface RunOptions {
  seed: number;
  users: number;
  operations: number;
  faults: readonly FaultKind[];
}

export interface RunResult {
  seed: number;
  operations: number;
  faults: Record<string, number>;
  anomalies: Anomaly[];
}

interface HostProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

function startHost(dir: string, port: number): Promise<HostProcess> {
  const child = spawn(process.execPath, [...scriptArgs(SCRIPTS.host), '--bind', '127.0.0.1', '--address-registrations-per-minute', '1000', '--port', String(port), '--data', dir], {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/^listening \S+:\d+$/m.test(out)) resolve({ child, exited });
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the host exited with ${code} before listening:\n${out}`)));
  });
}

async function roomView(client: ChatClient): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history', { conv: 'room', before, limit: 200 });
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.id;
  }
  return pages.flat();
}

export async function runSingleHost(options: RunOptions): Promise<RunResult> {
  const random = seededRandom(options.seed);
  const dir = tempDir('lanchat-checker-');
  const names = [...Array(options.users).keys()].map((i) => `user${i}`);
  await seedIdentity(dir);
  await seedUsers(dir, names);
  const port = await freePort();
  let host = await startHost(dir, port);
  const proxy = await LinkProxy.start(await freePort(), () => port);
  const clients: ChatClient[] = [];
  const faults: Record<string, number> = {};
  const gaveUp: Anomaly[] = [];
  const history: History = { seed: options.seed, acked: new Map(), pushes: new Map(), views: new Map() };
  try {
    for (const name of names) {
      const client = await login({ address: { port: proxy.port } }, name);
      clients.push(client);
      const pushes: number[] = [];
      history.pushes.set(name, pushes);
      // Others' messages keep id order; one's own may come below them (a resend answered with its earlier id).
      client.on('message', (m) => {
        if (m.conv === 'room' && m.from !== name) pushes.push(m.id);
      });
      // The app gave up on its host: what its outbox held is never resent.
      client.on('fatal', (error) => gaveUp.push({ kind: 'client-gave-up', seed: options.seed, detail: { user: name, code: error.code, message: error.message } }));
      client.on('sent', ({ clientMsgId, message }) => history.acked.set(clientMsgId, { user: name, id: message.id }));
    }
    // Each fault once, at a point drawn from the seed, in the middle half of the workload.
    const schedule = new Map(options.faults.map((kind) => [Math.floor(options.operations * (0.25 + random() / 2)), kind]));
    const sends: Promise<unknown>[] = [];
    for (let op = 0; op < options.operations; op++) {
      const kind = schedule.get(op);
      if (kind === 'kill') {
        proxy.stopListening();
        host.child.kill('SIGKILL');
        await host.exited;
        host = await startHost(dir, port);
        await proxy.listen();
      } else if (kind === 'link-cut') {
        proxy.cutMidFrame();
      }
      if (kind) faults[kind] = (faults[kind] ?? 0) + 1;
      const u = Math.floor(random() * clients.length);
      sends.push(clients[u]!.send({ kind: 'room' }, `op ${op}`, `s${options.seed}-u${u}-op${op}`).catch(() => undefined));
      if (random() < 0.3) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
    const live = clients.filter((c) => c.state !== 'closed');
    await waitFor(() => live.every((c) => c.state === 'online'), 30_000, `every client online (${clients.map((c) => c.state).join()})`);
    for (const [i, client] of clients.entries()) {
      if (client.state === 'closed') continue;
      history.views.set(names[i]!, (await roomView(client)).filter((m) => m.clientMsgId.startsWith(`s${options.seed}-`)));
    }
    return { seed: options.seed, operations: options.operations, faults, anomalies: [...gaveUp, ...check(history)] };
  } finally {
    for (const client of clients) client.close();
    proxy.close();
    host.child.kill('SIGKILL');
    await host.exited;
    removeDir(dir);
  }
}
