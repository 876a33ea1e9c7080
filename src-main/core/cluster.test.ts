/**
 * Issue 16 end to end: host nodes as `npm run host -- --postgres <url> --nats <url>` starts them
 * (startHost with `cluster`), on Debian's PostgreSQL and nats-server started here, clients
 * (ChatClient with `alternates`) spread over them; one node a real process killed with -9 mid-burst.
 * The NATS server takes TLS only, and one user with a password (issue 36), as docs/DEPLOYMENT.md sets it up.
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ServerAddress } from '../client/addresses.js';
import { ChatClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import { downloadFile, uploadFile } from '../client/transfer.js';
import { type PostgresDatabases, postgresMissing, testPostgres, uniqueDatabaseName } from '../store/pg/testing.js';
import { TEST_PASSWORD_COST, collectMessages, killAfterAcks, nextEvent, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import { CliProcess } from '../testing/process.js';
import type { ServerLog } from '../server/log.js';
import type { ClusterOptions } from './cluster.js';
import { type Host, startHost } from './host.js';

const missing = postgresMissing ?? natsMissing;
const TITLE = 'a clustered room: three host nodes on PostgreSQL and NATS';
const HEARTBEAT_MS = 300;
const PG_BIN = '/usr/lib/postgresql/15/bin';

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let dir: string;
  let postgres: PostgresDatabases;
  const database = uniqueDatabaseName('room');
  let nats: NatsServer;
  let url: string;
  const nodes: Host[] = [];
  const clients: ChatClient[] = [];

  /** A node's data folder with the room's key and certificate, copied from the first node's (docs/DEPLOYMENT.md). */
  function sharedFolder(name: string): string {
    const folder = join(dir, name);
    mkdirSync(folder);
    for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dir, 'a', file), join(folder, file));
    return folder;
  }

  function startNode(dataDir: string, filesDir?: string): Promise<Host> {
    return startHost({
      dataDir,
      ...(filesDir ? { filesDir } : {}),
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      presenceWindowMs: 200,
      limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 },
      cluster: { postgres: url, nats: [nats.url], busSecurity: nats.security!, heartbeatMs: HEARTBEAT_MS },
    });
  }

  beforeAll(async () => {
    dir = tempDir('lanchat-cluster-node-');
    postgres = await testPostgres();
    [nats] = await Promise.all([NatsServer.startSecured(dir), postgres.createDatabase(database)]);
    url = postgres.url(database);
    // The first two share a files folder; the third has none.
    const files = join(dir, 'shared-files');
    nodes.push(await startNode(join(dir, 'a'), files));
    nodes.push(await startNode(sharedFolder('b'), files));
    nodes.push(await startNode(sharedFolder('c')));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await nats?.stop();
    removeDir(dir);
  });

  const address = (node: Host) => ({ host: '127.0.0.1', port: node.address.port });

  /** The messages each client emitted, from before its first login. */
  const seen = new Map<ChatClient, ReturnType<typeof collectMessages>>();

  /** Logs in to `primary`, with `alternates` to move to in the order given. */
  async function connect(primary: ServerAddress, alternates: ServerAddress[], name: string, options: Partial<ClientOptions> = {}): Promise<ChatClient> {
    const client = new ChatClient({ ...primary, alternates, random: () => 0, name, password: `${name}-secret`, backoffMinMs: 50, backoffMaxMs: 300, ...options });
    clients.push(client);
    seen.set(client, collectMessages(client));
    await client.connect();
    return client;
  }

  /** Logs in on node `first`, with the other nodes as its alternates. */
  function on(first: number, name: string, options: Partial<ClientOptions> = {}): Promise<ChatClient> {
    const [primary, ...rest] = [...nodes.slice(first), ...nodes.slice(0, first)];
    return connect(address(primary!), rest.map(address), name, options);
  }

  const texts = (client: ChatClient): string[] => seen.get(client)!.texts();
  const ids = (client: ChatClient): number[] => seen.get(client)!.ids();

  it('delivers room, direct and group messages across nodes, each once', async () => {
    const alice = await on(0, 'alice');
    const bob = await on(1, 'bob');
    const carol = await on(2, 'carol');

    await alice.send({ kind: 'room' }, 'hello room');
    await bob.send({ kind: 'dm', user: 'carol' }, 'bob to carol');
    const invited = nextEvent(alice, 'groupInvitations', (push) => push.invitations.length === 1);
    const { group } = await carol.request('groupCreate', { name: 'Team', members: ['alice'] });
    await invited;
    await alice.request('groupAnswer', { groupId: group.id, accept: true });
    await carol.send({ kind: 'group', groupId: group.id }, 'team only');
    await alice.send({ kind: 'room' }, 'last');

    // Membership lines (a group's "joined") are messages too; these are the ones people wrote.
    const said = (client: ChatClient) => texts(client).filter((text) => ['hello room', 'bob to carol', 'team only', 'last'].includes(text));
    await waitFor(() => [bob, carol].every((client) => texts(client).includes('last')), 'the last message everywhere');
    expect(said(alice)).toEqual(['hello room', 'team only', 'last']);
    expect(said(bob)).toEqual(['hello room', 'bob to carol', 'last']);
    expect(said(carol)).toEqual(['hello room', 'bob to carol', 'team only', 'last']);
    for (const client of [alice, bob, carol]) expect(new Set(ids(client)).size).toBe(ids(client).length);
  });

  it('takes a resend of one clientMsgId on another node as the same message', async () => {
    const dave = await on(0, 'dave');
    const daveElsewhere = await on(2, 'dave');
    const erin = await on(1, 'erin');
    const first = await dave.send({ kind: 'room' }, 'only once', 'dave-1');
    const again = await daveElsewhere.send({ kind: 'room' }, 'only once', 'dave-1');
    expect(again.id).toBe(first.id);
    await dave.send({ kind: 'room' }, 'after', 'dave-2');
    await waitFor(() => texts(erin).includes('after'), 'erin to get the message after');
    expect(texts(erin).filter((text) => text === 'only once')).toHaveLength(1);
  });

  it('catches a client up on what it missed when it comes back on another node, and finds it by search', async () => {
    const frank = await on(0, 'frank');
    const grace = await on(1, 'grace');
    const last = (await grace.send({ kind: 'room' }, 'before frank leaves')).id;
    await waitFor(() => frank.lastMessageId >= last, 'frank to have it');
    frank.close();
    const missed = [];
    for (let i = 0; i < 5; i += 1) missed.push((await grace.send({ kind: 'room' }, `missed quarterly ${i}`)).id);

    const back = await on(2, 'frank', { lastMessageId: frank.lastMessageId, lastEventId: frank.lastEventId });
    await waitFor(() => ids(back).length >= missed.length, 'frank to catch up');
    expect(ids(back)).toEqual(missed);

    const { hits } = await back.request('search', { query: 'RTERLY 3' });
    expect(hits.map((hit) => hit.message.id)).toEqual([missed[3]]);
  });

  it('kicks and bans a user connected to another node', async () => {
    const heidi = await on(1, 'heidi');
    const kicked = nextEvent(heidi, 'fatal');
    await nodes[0]!.server.admin.kick('heidi');
    expect((await kicked)[0].code).toBe(ErrorCode.KICKED);

    const ivan = await on(2, 'ivan');
    const banned = nextEvent(ivan, 'fatal');
    await nodes[0]!.server.admin.ban({ name: 'ivan' });
    expect((await banned)[0].code).toBe(ErrorCode.BANNED);
    await expect(on(1, 'ivan', { reconnect: false })).rejects.toMatchObject({ code: ErrorCode.BANNED });
  });

  it('serves a file taken by one node from another sharing its files folder; a node without one takes none', async () => {
    const kate = await on(0, 'kate');
    const leo = await on(1, 'leo');
    const mona = await on(2, 'mona');
    const bytes = randomBytes(200_000);
    const file = await uploadFile(kate.transferLink()!, { source: { bytes }, name: 'notes.bin' });
    await kate.send({ kind: 'room' }, 'notes attached', undefined, undefined, [{ fileId: file.id }]);
    const got = await downloadFile(leo.transferLink()!, { fileId: file.id });
    expect(got.bytes?.equals(bytes)).toBe(true);
    expect(leo.session!.hello.features).toContain('files');
    expect(mona.session!.hello.features).not.toContain('files');
    await expect(mona.send({ kind: 'room' }, 'see attached', undefined, undefined, [{ fileId: file.id }])).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_FILE,
      message: 'this host takes no files',
    });
  });

  it('refuses a node whose certificate is not the room\'s', async () => {
    await expect(startNode(join(dir, 'stranger'))).rejects.toThrow(/certificate .* is not the room's .*copy tls-key.pem and tls-cert.pem/);
  });

  it('keeps a bus client without the credentials out: it neither reads nor writes the room', async () => {
    const { caFile, user, password } = nats.security!;
    const attempts = {
      'no credentials': { tls: { caFile } },
      'a wrong password': { tls: { caFile }, user, pass: `${password}x` },
      'the password without TLS': { user, pass: password, tls: null },
    };
    for (const [what, options] of Object.entries(attempts)) {
      await expect(natsConnect({ servers: nats.url, reconnect: false, ...options }), what).rejects.toThrow(/Authorization Violation|TLS|tls/);
    }
  });

  it('refuses a node on an open bus (no TLS or no credentials, or a NATS that asks for none) unless told it is insecure', async () => {
    const { caFile, user, password } = nats.security!;
    const node = (cluster: Partial<ClusterOptions>) => startHost({ dataDir: sharedFolder(`open-${randomBytes(4).toString('hex')}`), port: 0, bind: '127.0.0.1', cluster: { postgres: url, nats: [nats.url], ...cluster } });
    await expect(node({})).rejects.toThrow(/bus to the other nodes would be open: without TLS .* and credentials .*--insecure-bus/);
    await expect(node({ busSecurity: { user, password } })).rejects.toThrow(/without TLS \(--nats-ca/);
    await expect(node({ busSecurity: { caFile } })).rejects.toThrow(/without credentials \(--nats-user/);
    const tlsOnly = await NatsServer.startSecured(sharedFolder('tls-only-nats'), 'tls only');
    try {
      const busSecurity = { ...tlsOnly.security!, user, password };
      await expect(node({ nats: [tlsOnly.url], busSecurity })).rejects.toThrow(/NATS server lets clients in without credentials/);
      const insecure = await node({ nats: [tlsOnly.url], busSecurity, insecureBus: true });
      await insecure.stop();
    } finally {
      await tlsOnly.stop();
    }
  });

  it('refuses to start a node without the bus on the database of a room whose other nodes run', async () => {
    await expect(startHost({ dataDir: sharedFolder('no-bus'), port: 0, bind: '127.0.0.1', cluster: { postgres: url } })).rejects.toThrow(
      /this room has 3 other node\(s\) running on its database; a node without the bus would miss what they deliver: start it with --nats/,
    );
  });

  it('delivers nothing from a restored copy of the database started against the same NATS, nor the room into the copy', async () => {
    const nora = await on(1, 'nora');
    const oscar = await on(2, 'oscar');
    const before = await oscar.send({ kind: 'room' }, 'before the backup');
    await waitFor(() => ids(nora).includes(before.id), 'nora to have the message before the backup');
    // The backup, restored as a test restore would be: another database (of the same server here).
    const restored = uniqueDatabaseName('restored');
    await postgres.createDatabase(restored);
    execSync(`${PG_BIN}/pg_dump --no-owner '${url}' | ${PG_BIN}/psql -q -v ON_ERROR_STOP=1 '${postgres.url(restored)}'`, { stdio: 'ignore' });
    const copy = await startHost({
      dataDir: sharedFolder('restored'),
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      cluster: { postgres: postgres.url(restored), nats: [nats.url], busSecurity: nats.security!, heartbeatMs: HEARTBEAT_MS },
    });
    /** What each node's log says it dropped from the other side, by message kind. */
    const dropped = (log: ServerLog): Record<string, number> => {
      const kinds: Record<string, number> = {};
      log.subscribe((entry) => {
        if (entry.event !== 'bus messages dropped') return;
        for (const [kind, n] of Object.entries(entry.messages as Record<string, number>)) kinds[kind] = (kinds[kind] ?? 0) + n;
      });
      return kinds;
    };
    const droppedBy = nodes.map((node) => dropped(node.log));
    const droppedByCopy = dropped(copy.log);
    try {
      const oscarOnCopy = await connect(address(copy), [], 'oscar');
      await oscarOnCopy.send({ kind: 'room' }, 'from the copy');
      expect(await copy.server.admin.kick('nora')).toBe(0);
      await oscar.send({ kind: 'room' }, 'production after the backup');
      // Every production node saw the copy's push and kick and dropped them; the copy dropped production's push.
      await waitFor(() => droppedBy.every((kinds) => kinds.push! >= 1 && kinds.end! >= 1) && droppedByCopy.push! >= 1, 'the drops');
      const after = await oscar.send({ kind: 'room' }, 'production goes on');
      await waitFor(() => ids(nora).includes(after.id), 'nora to have the last message');
      expect(texts(nora).filter((text) => text.includes('backup') || text.includes('copy') || text.includes('goes on'))).toEqual([
        'before the backup',
        'production after the backup',
        'production goes on',
      ]);
      expect(nora.state).toBe('online');
      expect(texts(oscarOnCopy)).not.toContain('production after the backup');
    } finally {
      await copy.stop();
    }
  });

  it('loses nothing acknowledged and duplicates nothing when a node is killed with -9 mid-burst', async () => {
    const folder = sharedFolder('killed');
    const doomed = CliProcess.run('host', ['--bind', '127.0.0.1', '--port', '0', '--data', folder, '--no-announce', '--postgres', url, ...nats.hostFlags.args], nats.hostFlags.env);
    const doomedAddress = { host: '127.0.0.1', port: await doomed.port() };

    const senders = 6;
    const perSender = 40;
    const names = [...Array(senders).keys()].map((i) => `burst${i}`);
    // Accounts made on a node in this process, with the tests' cheap password hash.
    for (const name of names) (await on(0, name)).close();
    const users = await Promise.all(names.map((name) => connect(doomedAddress, nodes.map(address), name)));
    const watcher = await on(1, 'watcher');

    const { acked, failed, ackedAtKill } = killAfterAcks(users, 60, () => doomed.child.kill('SIGKILL'));
    const sends = users.flatMap((client, u) => [...Array(perSender).keys()].map((i) => client.send({ kind: 'room' }, `burst ${u}.${i}`, `burst-${u}-${i}`)));
    await waitFor(() => doomed.exitCode !== null, 20_000, 'the node to die');
    const ackedBeforeKill = new Map(acked);
    expect(doomed.signal).toBe('SIGKILL');
    expect(ackedAtKill()).toBeLessThan(senders * perSender);

    const stored = await Promise.all(sends);
    expect(failed).toEqual([]);
    for (const [clientMsgId, id] of ackedBeforeKill) expect(stored.find((message) => message.clientMsgId === clientMsgId)?.id).toBe(id);
    const burst = stored.map((message) => message.id).sort((x, y) => x - y);
    expect(new Set(burst).size).toBe(senders * perSender);

    // Every client, moved or not, has every message once, in id order.
    const everyone = [...users, watcher];
    const missing = (): string[] =>
      everyone.flatMap((client) => {
        const absent = stored.filter(({ id }) => !ids(client).includes(id)).map(({ id }) => id);
        return absent.length === 0 ? [] : [`${client.session?.login.name ?? '?'} (${client.state}) lacks ${absent.join(',')}`];
      });
    await waitFor(() => missing().length === 0, 20_000, 'every client to have every message').catch((error: Error) => {
      throw new Error(`${error.message}: ${missing().join('; ')}`);
    });
    for (const client of everyone) expect(ids(client).filter((id) => id >= burst[0]!)).toEqual(burst);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ count: number; distinct: number }>(
        `SELECT count(*)::int AS count, count(DISTINCT client_msg_id)::int AS distinct FROM messages WHERE client_msg_id LIKE 'burst-%'`,
      );
      expect(rows[0]).toEqual({ count: senders * perSender, distinct: senders * perSender });
    } finally {
      await db.end();
    }
  });

  it('keeps a send queued while the database refuses the nodes, and stores it once, without a restart, once it is back', async () => {
    const judy = await on(0, 'judy');
    const kim = await on(1, 'kim');
    const admin = new pg.Client({ connectionString: postgres.url('postgres') });
    await admin.connect();
    let intoTheVoid: Promise<{ id: number }>;
    try {
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`);
      const retrying = nextEvent(judy, 'sendRetrying');
      intoTheVoid = judy.send({ kind: 'room' }, 'into the void');
      expect((await retrying)[0].error).toMatchObject({ code: ErrorCode.INTERNAL });
      // Heartbeats pass meanwhile: each reads the newest message id from the database.
      await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
      expect(judy.state).toBe('online');
      expect(judy.unsent.map((item) => item.text)).toEqual(['into the void']);
    } finally {
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const stored = await intoTheVoid;
    const back = await judy.send({ kind: 'room' }, 'back again');
    await waitFor(() => ids(kim).includes(back.id), 'kim to get the message sent after the outage');
    expect(texts(kim).filter((text) => text === 'into the void' || text === 'back again')).toEqual(['into the void', 'back again']);
    expect(ids(kim)).toContain(stored.id);
  });
});
