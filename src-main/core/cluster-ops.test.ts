/**
 * Issue 36, items 5 and 8 on a clustered room (PostgreSQL and a secured NATS started here): an admin
 * action through one node's admin API reaches the users of another node; and nodes of two versions on one
 * database: another minor works, another major or schema is refused before anything is migrated, with a
 * log line and, for the `lanchat-host` process, exit status 3.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ChatClient } from '../client/client.js';
import { AdminApi } from '../cli/admin-api.js';
import { type AdminPort, HostMetrics, startAdminPort } from '../cli/admin-port.js';
import { ClientError } from '../client/errors.js';
import { LATEST_VERSION } from '../store/migrations/index.js';
import { type PostgresDatabases, postgresMissing, testPostgres, uniqueDatabaseName } from '../store/pg/testing.js';
import { TEST_PASSWORD_COST, nextEvent, removeDir, tempDir } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import { CliProcess } from '../testing/process.js';
import { IncompatibleNodeError, NODE_VERSION, type NodeVersion } from './cluster-members.js';
import { type Host, startHost } from './host.js';

const missing = postgresMissing ?? natsMissing;
const TITLE = 'a clustered room operated: the admin API across nodes, nodes of two versions';
const TOKEN = 'the-admin-token-of-this-clustered-room-0123';
const PG_BIN = '/usr/lib/postgresql/15/bin';

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let dir: string;
  let postgres: PostgresDatabases;
  const database = uniqueDatabaseName('ops');
  let nats: NatsServer;
  let url: string;
  const nodes: Host[] = [];
  let adminA: AdminPort;
  const clients: ChatClient[] = [];
  let folders = 0;

  function folder(): string {
    const path = join(dir, `node-${(folders += 1)}`);
    mkdirSync(path);
    for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dir, 'a', file), join(path, file));
    return path;
  }

  function startNode(dataDir: string, version?: NodeVersion): Promise<Host> {
    return startHost({
      dataDir,
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 },
      cluster: { postgres: url, nats: [nats.url], busSecurity: nats.security!, heartbeatMs: 300, ...(version ? { version } : {}) },
    });
  }

  async function user(node: Host, name: string, password = `${name}-secret`): Promise<ChatClient> {
    const client = new ChatClient({ host: '127.0.0.1', port: node.address.port, name, password, backoffMinMs: 50, backoffMaxMs: 300 });
    clients.push(client);
    await client.connect();
    return client;
  }

  async function loginError(node: Host, name: string): Promise<string> {
    try {
      (await user(node, name)).close();
      return 'no error';
    } catch (error) {
      if (error instanceof ClientError) return error.code;
      throw error;
    }
  }

  const call = async (body: unknown): Promise<{ status: number; body: { ok: boolean; lines: string[] } }> => {
    const response = await fetch(`http://127.0.0.1:${adminA.address.port}/admin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { ok: boolean; lines: string[] } };
  };

  const schemaVersion = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<{ version: number }>('SELECT max(version) AS version FROM schema_version')).rows[0]!.version;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = tempDir('lanchat-cluster-ops-');
    postgres = await testPostgres();
    [nats] = await Promise.all([NatsServer.startSecured(dir), postgres.createDatabase(database)]);
    url = postgres.url(database);
    nodes.push(await startNode(join(dir, 'a')));
    nodes.push(await startNode(folder()));
    const [a] = nodes;
    adminA = await startAdminPort(a!, new HostMetrics(), 0, '127.0.0.1', new AdminApi(TOKEN, a!.server.admin, a!.log));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await adminA?.close();
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await nats?.stop();
    removeDir(dir);
  });

  it("bans, mutes and kicks through node A's admin API the users of node B", async () => {
    const [, b] = nodes;
    const bob = await user(b!, 'bob');
    const carol = await user(b!, 'carol');

    const muted = nextEvent(carol, 'mute', (push) => push.muted);
    expect((await call({ command: 'mute', name: 'carol' })).status).toBe(200);
    await muted;
    await expect(carol.send({ kind: 'room' }, 'muted on B')).rejects.toMatchObject({ code: ErrorCode.MUTED });
    expect((await call({ command: 'unmute', name: 'carol' })).status).toBe(200);

    const kicked = nextEvent(carol, 'fatal');
    expect((await call({ command: 'kick', name: 'carol' })).body.ok).toBe(true);
    expect((await kicked)[0].code).toBe(ErrorCode.KICKED);

    const banned = nextEvent(bob, 'fatal');
    expect((await call({ command: 'ban', name: 'bob' })).body.lines).toEqual(['banned bob']);
    expect((await banned)[0].code).toBe(ErrorCode.BANNED);
    expect(await loginError(b!, 'bob')).toBe(ErrorCode.BANNED);
    expect(await loginError(nodes[0]!, 'bob')).toBe(ErrorCode.BANNED);
    expect((await call({ command: 'unban', name: 'bob' })).body.lines).toEqual(['unbanned bob']);
    expect(await loginError(b!, 'bob')).toBe('no error');
  });

  it('lets a node of another minor version join and work; refuses another major, an older or newer schema, before migrating', async () => {
    const minor = await startNode(folder(), { ...NODE_VERSION, minor: NODE_VERSION.minor + 1 });
    nodes.push(minor);
    const dave = await user(minor, 'dave');
    const erin = await user(nodes[0]!, 'erin');
    const got = nextEvent(erin, 'message', (message) => message.text === 'from the newer minor');
    await dave.send({ kind: 'room' }, 'from the newer minor');
    await got;
    const logged = (host: Host) => readFileSync(host.logFile, 'utf8');
    expect(logged(minor)).toContain('"event":"nodes of another minor version"');

    const refusals: [NodeVersion, RegExp][] = [
      [{ ...NODE_VERSION, major: NODE_VERSION.major + 1 }, /runs version 1\.\d+ \(schema \d+\), which this node \(2\.0 .*cannot work with/],
      [{ ...NODE_VERSION, schema: LATEST_VERSION + 1 }, /would migrate under it: a new schema needs every node of the room stopped/],
      [{ ...NODE_VERSION, schema: LATEST_VERSION - 1 }, /of a newer schema than this node's .*: update this node/],
    ];
    for (const [version, reason] of refusals) {
      const refusedFolder = folder();
      const refused = startNode(refusedFolder, version);
      await expect(refused, JSON.stringify(version)).rejects.toThrow(reason);
      await expect(refused).rejects.toBeInstanceOf(IncompatibleNodeError);
      await expect(refused).rejects.toMatchObject({ exitCode: 3 });
      expect(logged({ logFile: join(refusedFolder, 'server.log') } as Host)).toContain('"event":"incompatible with the room"');
    }
    expect(await schemaVersion()).toBe(LATEST_VERSION);
    // The room went on throughout.
    const again = nextEvent(erin, 'message', (message) => message.text === 'still one room');
    await dave.send({ kind: 'room' }, 'still one room');
    await again;
  });

  it("starts a room from a pg_dump restored with pg_restore into a new database, as docs/DEPLOYMENT.md says", async () => {
    const frank = await user(nodes[0]!, 'frank');
    const before = await frank.send({ kind: 'room' }, 'before the dump');
    frank.close();
    const dump = join(dir, 'lanchat.dump');
    execFileSync(`${PG_BIN}/pg_dump`, ['--format=custom', '--no-owner', `--file=${dump}`, url]);
    const restored = uniqueDatabaseName('restored');
    await postgres.createDatabase(restored);
    execFileSync(`${PG_BIN}/pg_restore`, ['--no-owner', '--exit-on-error', `--dbname=${postgres.url(restored)}`, dump]);
    const copy = await startHost({
      dataDir: folder(),
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      cluster: { postgres: postgres.url(restored), nats: [nats.url], busSecurity: nats.security!, heartbeatMs: 300 },
    });
    try {
      expect(copy.fingerprint).toBe(nodes[0]!.fingerprint);
      const frankThere = await user(copy, 'frank');
      const page = await frankThere.request('sync', { after: before.id - 1, limit: 10 });
      expect(page.messages.map((message) => [message.id, message.text])).toEqual([[before.id, 'before the dump']]);
    } finally {
      await copy.stop();
    }
  });

  it('exits with status 3, saying why, as lanchat-host started beside nodes of another major version', async () => {
    // The nodes of this version leave the room's database to a node of the other version.
    const ours = nodes.splice(0);
    await adminA.close();
    await Promise.all(ours.map((node) => node.stop()));
    const other = await startNode(folder(), { ...NODE_VERSION, major: NODE_VERSION.major + 1 });
    try {
      const refusedHost = CliProcess.run(
        'host',
        ['--bind', '127.0.0.1', '--port', '0', '--data', folder(), '--no-announce', '--postgres', url, ...nats.hostFlags.args],
        nats.hostFlags.env,
      );
      expect(await refusedHost.waitExit(60_000)).toBe(3);
      expect(refusedHost.output).toMatch(/^host: a node of this room runs version 2\.0 .*cannot work with.*"Upgrading"/m);
    } finally {
      await other.stop();
    }
  });
});
