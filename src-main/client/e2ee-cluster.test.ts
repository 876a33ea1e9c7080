/**
 * Issue 35's search of everything a clustered host holds: two host nodes on PostgreSQL and NATS (as
 * core/cluster.test.ts starts them), users on different nodes exchanging encrypted direct and group
 * messages; every message on the bus (a subscriber to `>`) and a pg_dump of the room's database hold
 * none of the texts, in UTF-8 or inside any base64 or hex blob. A plain room message's text is found
 * in both, which shows the search looks where the texts would be.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { type Host, startHost } from '../core/host.js';
import { type PostgresDatabases, postgresMissing, testPostgres, uniqueDatabaseName } from '../store/pg/testing.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import { ChatClient } from './client.js';
import { type DecryptedMessage, EncryptedChats } from './e2ee.js';

const missing = postgresMissing ?? natsMissing;
const TITLE = 'end-to-end encryption in a clustered room: two nodes on PostgreSQL and NATS';
const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump';

/** The bytes a blob of text may hide: each base64 (standard or url) and hex run of it, decoded. */
function decodedBlobs(text: string): Buffer[] {
  const base64 = [...text.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)].map((match) => Buffer.from(match[0], match[0].includes('-') || match[0].includes('_') ? 'base64url' : 'base64'));
  const hex = [...text.matchAll(/(?:\\x)?((?:[0-9a-f]{2}){8,})/g)].map((match) => Buffer.from(match[1]!, 'hex'));
  return [...base64, ...hex];
}

/** Whether the captured text holds `needle`, as it is or inside one of its blobs. */
function holds(text: string, blobs: Buffer[], needle: string): boolean {
  return text.includes(needle) || blobs.some((blob) => blob.includes(needle));
}

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let dir: string;
  let postgres: PostgresDatabases;
  const database = uniqueDatabaseName('e2ee');
  let url: string;
  let nats: NatsServer;
  let tap: NatsConnection;
  const bus: string[] = [];
  const nodes: Host[] = [];
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    dir = tempDir('lanchat-e2ee-cluster-');
    postgres = await testPostgres();
    [nats] = await Promise.all([NatsServer.start(dir), postgres.createDatabase(database)]);
    url = postgres.url(database);
    // Everything any node publishes, from before the first node starts.
    tap = await natsConnect({ servers: nats.url });
    // A callback, not an iterator: it runs as each message is read, so after `tap.flush()` every message the
    // server sent before its answer is in `bus` (an iterator's loop may still be a few microtasks behind).
    tap.subscribe('>', {
      callback: (error, message) => {
        if (!error) bus.push(Buffer.from(message.data).toString('latin1'));
      },
    });
    await tap.flush();
    for (const name of ['a', 'b']) {
      const dataDir = join(dir, name);
      if (name !== 'a') {
        // The room's key and certificate, copied from the first node's (docs/DEPLOYMENT.md).
        mkdirSync(dataDir);
        for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dir, 'a', file), join(dataDir, file));
      }
      nodes.push(
        await startHost({
          dataDir,
          port: 0,
          bind: '127.0.0.1',
          passwordCost: TEST_PASSWORD_COST,
          limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 },
          cluster: { postgres: url, nats: [nats.url], insecureBus: true, heartbeatMs: 300 },
        }),
      );
    }
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await tap?.close();
    await nats?.stop();
    removeDir(dir);
  });

  async function on(node: number, name: string): Promise<ChatClient> {
    const client = new ChatClient({ host: '127.0.0.1', port: nodes[node]!.address.port, name, password: `${name}-secret`, backoffMinMs: 50, backoffMaxMs: 300 });
    clients.push(client);
    await client.connect();
    return client;
  }

  const nextMessage = (chats: EncryptedChats, text: string): Promise<DecryptedMessage> =>
    new Promise((resolve) => {
      const listener = (message: DecryptedMessage): void => {
        if (message.text !== text) return;
        chats.off('message', listener);
        resolve(message);
      };
      chats.on('message', listener);
    });

  it('relays DM and group messages between nodes; neither the bus nor the database holds their text', async () => {
    const [alice, bob, carol] = [await on(0, 'alice'), await on(1, 'bob'), await on(1, 'carol')];
    const [a, b, c] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob), await EncryptedChats.start(carol)];
    const dm = dmConversation(a.id.userId, b.id.userId);
    await a.create(dm, ['bob']);
    await waitFor(() => b.members(dm) !== undefined, "bob's device to join the DM from the other node");
    const atBob = nextMessage(b, 'cluster-secret-dm-alice');
    await a.send(dm, 'cluster-secret-dm-alice');
    expect((await atBob).sender).toEqual(a.id);
    const atAlice = nextMessage(a, 'cluster-secret-dm-bob');
    await b.send(dm, 'cluster-secret-dm-bob');
    expect((await atAlice).sender).toEqual(b.id);

    const { group } = await alice.request('groupCreate', { name: 'team', members: ['bob', 'carol'] });
    for (const member of [bob, carol]) await member.request('groupAnswer', { groupId: group.id, accept: true });
    const conv = groupConversation(group.id);
    await a.create(conv, ['bob', 'carol']);
    await waitFor(() => b.members(conv) !== undefined && c.members(conv) !== undefined, 'the group to be joined on the other node');
    const everyone = [nextMessage(a, 'cluster-secret-group-carol'), nextMessage(b, 'cluster-secret-group-carol')];
    await c.send(conv, 'cluster-secret-group-carol');
    for (const got of await Promise.all(everyone)) expect(got.sender).toEqual(c.id);

    // A plain room message: its text is on the bus and in the database, where the search must find it.
    const heard = new Promise<void>((resolve) => bob.on('message', (message) => message.text === 'cluster-plain-room-text' && resolve()));
    await alice.send({ kind: 'room' }, 'cluster-plain-room-text');
    await heard;
    await tap.flush();

    const onBus = bus.join('\n');
    const busBlobs = decodedBlobs(onBus);
    const dump = execFileSync(PG_DUMP, ['--no-owner', '--data-only', url], { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 });
    const dumpBlobs = decodedBlobs(dump);
    expect(holds(onBus, busBlobs, 'cluster-plain-room-text')).toBe(true);
    expect(holds(dump, dumpBlobs, 'cluster-plain-room-text')).toBe(true);
    // The frames did cross the bus and are in the database, and the search reads inside them: their clear header's
    // group id is found in the decoded blobs (base64 on the bus, hex in the dump's bytea).
    expect(onBus).toContain('"mls"');
    expect(dump).toContain('mls_frames');
    expect(busBlobs.some((blob) => blob.includes(conv))).toBe(true);
    expect(dumpBlobs.some((blob) => blob.includes(conv))).toBe(true);
    for (const text of ['cluster-secret-dm-alice', 'cluster-secret-dm-bob', 'cluster-secret-group-carol', 'cluster-secret']) {
      expect(holds(onBus, busBlobs, text), `${text} on the bus`).toBe(false);
      expect(holds(dump, dumpBlobs, text), `${text} in the database`).toBe(false);
    }
  });
});
