/**
 * The checker's one-host topology: the host a real process on a SQLite file, the clients
 * connecting through a relay (proxy.ts). Faults: kill -9 of the host and a restart on the
 * same folder and port; a client's link cut in the middle of a frame; the host stopped
 * (SIGTERM) and started again with its clock an hour off, as it stays from then on.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { removeDir, seedIdentity, seedUsers, tempDir } from '../harness.js';
import { freePort } from '../ports.js';
import { type HostProcess, drawSkew, killHost, readLogLines, startHostProcess, stopHost } from './host-process.js';
import { LinkProxy } from './proxy.js';
import { type FaultKind, type Topology, userNames } from './workload.js';

export const SINGLE_HOST_FAULTS: readonly FaultKind[] = ['kill', 'link-cut', 'clock-skew'];

export async function startSingleHost(users: number): Promise<Topology> {
  const dir = tempDir('lanchat-checker-');
  await seedIdentity(dir);
  await seedUsers(dir, userNames(users));
  const port = await freePort();
  let host: HostProcess;
  let proxy: LinkProxy;
  /** How far the host's clock is off: the machine's, so a restart after a kill keeps it. */
  let skewMs = 0;
  try {
    host = await startHostProcess(dir, port);
    proxy = await LinkProxy.start(await freePort(), () => port);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  return {
    paceMs: 8,
    addresses: () => ({ primary: { host: '127.0.0.1', port: proxy.port }, alternates: [] }),
    async inject(kind, random) {
      if (kind === 'kill' || kind === 'clock-skew') {
        proxy.stopListening();
        if (kind === 'kill') {
          await killHost(host);
        } else {
          skewMs = drawSkew(random);
          await stopHost(host);
        }
        host = await startHostProcess(dir, port, [], skewMs);
        await proxy.listen();
      } else if (kind === 'link-cut') {
        proxy.cutMidFrame();
      } else {
        throw new Error(`one host has no fault "${kind}"`);
      }
      return { over: Promise.resolve() };
    },
    pids: () => [host.child.pid],
    async storedMessages(prefix) {
      // Read-only beside the running host: its write-ahead log lets both in.
      const db = new Database(join(dir, 'chat.sqlite'), { readonly: true });
      try {
        return db.prepare<[string], { clientMsgId: string; id: number }>(`SELECT client_msg_id AS clientMsgId, id FROM messages WHERE client_msg_id LIKE ? || '%'`).all(prefix);
      } finally {
        db.close();
      }
    },
    logLines: () => readLogLines(join(dir, 'server.log')),
    async close() {
      proxy.close();
      await killHost(host);
      removeDir(dir);
    },
  };
}
