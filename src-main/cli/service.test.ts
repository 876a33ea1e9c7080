/**
 * Issue 36, items 2 to 4, as an operator runs a node: the `lanchat-host` command built to JavaScript
 * (scripts/build-host.ts) started from a folder where only the production dependencies resolve, from
 * one config file with a secret from a file, beside a second node in this process (PostgreSQL and
 * NATS started here); its admin port over HTTP; SIGTERM drains it under a sending client.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../client/client.js';
import { type Host, startHost } from '../core/host.js';
import { type PostgresDatabases, postgresMissing, testPostgres, uniqueDatabaseName } from '../store/pg/testing.js';
import { ChildLines } from '../testing/child-lines.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';

const missing = postgresMissing ?? natsMissing;
const TITLE = 'lanchat-host as a service: built, from a config file, with an admin port, drained by SIGTERM';

/** The packages package-lock.json installs for production (not `dev`), by name. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !path.slice('node_modules/'.length).includes('node_modules/') && !entry.dev && !entry.devOptional)
    .map(([path]) => path.slice('node_modules/'.length));
}

/** A process's output lines, waited for. */
class Lines extends ChildLines {
  static spawn(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Lines {
    return new Lines(spawn(command, args, options));
  }

  async waitLine(pattern: RegExp): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(() => this.lines.some((line) => (match = pattern.exec(line)) !== null) || this.exitCode !== null, 60_000, () => `${pattern} in:\n${this.lines.join('\n')}`);
    if (!match) throw new Error(`exited with ${this.exitCode} before a line matching ${pattern}:\n${this.lines.join('\n')}`);
    return match;
  }

  async waitExit(): Promise<number> {
    await waitFor(() => this.exitCode !== null, 60_000, () => `the process to exit:\n${this.lines.join('\n')}`);
    return this.exitCode!;
  }
}

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let dir: string;
  let app: string;
  let postgres: PostgresDatabases;
  const database = uniqueDatabaseName('service');
  let nats: NatsServer;
  let url: string;
  let nodeA: Lines;
  let nodeB: Host;
  let portA: number;
  let admin: string;
  let config: string;
  let adminToken: string;
  let env: NodeJS.ProcessEnv;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    dir = tempDir('lanchat-service-');
    // The built command in a folder of its own, where only production packages can be found.
    app = join(dir, 'app');
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-host.ts', join(app, 'dist-host')], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    copyFileSync('package.json', join(app, 'package.json'));
    for (const name of productionPackages()) {
      mkdirSync(join(app, 'node_modules', name, '..'), { recursive: true });
      symlinkSync(join(process.cwd(), 'node_modules', name), join(app, 'node_modules', name), 'dir');
    }
    postgres = await testPostgres();
    [nats] = await Promise.all([NatsServer.startSecured(dir), postgres.createDatabase(database)]);
    url = postgres.url(database);

    const secret = join(dir, 'postgres-url');
    writeFileSync(secret, `${url}\n`, { mode: 0o600 });
    const busSecret = join(dir, 'nats-password');
    writeFileSync(busSecret, `${nats.security!.password}\n`, { mode: 0o600 });
    config = join(dir, 'lanchat.yaml');
    writeFileSync(
      config,
      [
        '# node A of the room',
        `data: ${join(dir, 'a')}`,
        'bind: 127.0.0.1',
        'port: 0',
        'no-announce: true',
        `nats: [${nats.url}]`,
        `nats-ca: ${nats.security!.caFile}`,
        `nats-user: ${nats.security!.user}`,
        'admin-port: 0',
        'drain-seconds: 60',
        'room: From the file',
      ].join('\n'),
    );
    adminToken = join(dir, 'admin-token');
    writeFileSync(adminToken, 'a-token-for-the-admin-api-of-node-a-0123456789\n', { mode: 0o600 });
    env = { ...process.env, LANCHAT_POSTGRES_FILE: secret, LANCHAT_NATS_PASSWORD_FILE: busSecret, LANCHAT_ROOM: 'Office', LANCHAT_ADMIN_TOKEN_FILE: adminToken };
    const printed = spawnSync(process.execPath, [join(app, 'dist-host', 'lanchat-host.js'), '--config', config, '--print-config'], { cwd: app, env, encoding: 'utf8' });
    expect(printed.stdout).toContain('room: Office  # LANCHAT_ROOM');
    expect(printed.stdout).toContain('postgres: "********"  # LANCHAT_POSTGRES_FILE');
    expect(printed.stdout).not.toContain(url);
    expect(printed.stdout).not.toContain(nats.security!.password);

    nodeA = Lines.spawn(process.execPath, [join(app, 'dist-host', 'lanchat-host.js'), '--config', config], { cwd: app, env });
    portA = Number((await nodeA.waitLine(/^listening 127\.0\.0\.1:(\d+)$/))[1]);
    admin = (await nodeA.waitLine(/^admin (http:\/\/127\.0\.0\.1:\d+)$/))[1]!;
    mkdirSync(join(dir, 'b'));
    for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dir, 'a', file), join(dir, 'b', file));
    nodeB = await startHost({
      dataDir: join(dir, 'b'),
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 },
      cluster: { postgres: url, nats: [nats.url], busSecurity: nats.security! },
    });
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    nodeA?.child.kill('SIGKILL');
    await nodeB?.stop();
    await nats?.stop();
    removeDir(dir);
  });

  /** A client of node A that moves to node B; its account made on B (with the tests' cheap password hash). */
  async function onA(name: string): Promise<ChatClient> {
    const options = { host: '127.0.0.1', name, password: `${name}-secret`, backoffMinMs: 50, backoffMaxMs: 300 };
    const maker = new ChatClient({ ...options, port: nodeB.address.port });
    await maker.connect();
    maker.close();
    // Node A first (`random` drawing 0 keeps the order given): the metrics and the drain are node A's.
    const client = new ChatClient({ ...options, port: portA, alternates: [{ host: '127.0.0.1', port: nodeB.address.port }], random: () => 0 });
    clients.push(client);
    await client.connect();
    return client;
  }

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`${admin}${path}`);
    return { status: response.status, body: await response.text() };
  };

  it('answers /healthz and /readyz, and /metrics shows the traffic it carried', async () => {
    const alice = await onA('alice');
    const carol = await onA('carol');
    let heard = 0;
    carol.on('message', () => (heard += 1));
    for (let i = 0; i < 5; i++) await alice.send({ kind: 'room' }, `hello ${i}`);
    await waitFor(() => heard >= 5, 'carol to hear alice');

    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, database: 'ok', bus: 'ok', disk: 'ok' });

    const metrics = (await get('/metrics')).body;
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('lanchat_connections')).toBeGreaterThanOrEqual(1);
    expect(value('lanchat_logins_total')).toBeGreaterThanOrEqual(1);
    expect(value('lanchat_sends_total')).toBeGreaterThanOrEqual(5);
    expect(value('lanchat_deliveries_total')).toBeGreaterThanOrEqual(5);
    expect(value('lanchat_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('lanchat_bus_connected')).toBe(1);
    expect(value('lanchat_bus_round_trip_seconds')).toBeGreaterThan(0);
    expect(value('lanchat_disk_free_bytes')).toBeGreaterThan(0);
    expect(value('lanchat_draining')).toBe(0);
    expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metrics).toMatch(/^lanchat_database_pool_connections\{state="open"\} [1-9]/m);
    expect((await get('/nothing')).status).toBe(404);
  });

  it('takes the console commands from `lanchat-host admin`, the built command; SIGHUP reopens server.log', async () => {
    await onA('dora');
    // Run without blocking this process: its clients keep their heartbeats meanwhile.
    const command = (extra: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [join(app, 'dist-host', 'lanchat-host.js'), ...args], { cwd: app, env: { ...env, ...extra }, encoding: 'utf8' }, (error, stdout, stderr) =>
          resolve({ status: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
    // The config's admin-port is 0 (any free port): the URL is the one node A printed.
    const users = await command({}, 'admin', '--config', config, '--url', admin, 'users');
    expect(users.status, users.stderr).toBe(0);
    expect(users.stdout).toMatch(/^dora {2}127\.0\.0\.1:\d+/m);
    // The settings in force, as --print-config shows them: the token masked, each with where it came from.
    const settings = await command({}, 'admin', '--config', config, '--url', admin, 'settings');
    expect(settings.status, settings.stderr).toBe(0);
    expect(settings.stdout).toMatch(/^admin-token: "?\*{8}"? +# /m);
    expect(settings.stdout).toContain('room: Office  # LANCHAT_ROOM');
    expect(settings.stdout).not.toContain(url);
    expect(settings.stdout).not.toContain(readFileSync(adminToken, 'utf8').trim());
    const refused = await command({ LANCHAT_ADMIN_TOKEN_FILE: '', LANCHAT_ADMIN_TOKEN: 'not-the-token' }, 'admin', '--url', admin, 'kick', 'dora');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/missing or wrong admin token/);
    const backup = await command({}, 'backup', '--config', config, '--to', join(dir, 'backup'));
    expect(backup.status).toBe(2);
    expect(backup.stderr).toMatch(/clustered room: its database is PostgreSQL, backed up with pg_dump/);

    // logrotate's move, then its SIGHUP: the next lines go to a new server.log.
    const log = join(dir, 'a', 'server.log');
    renameSync(log, `${log}.rotated`);
    nodeA.child.kill('SIGHUP');
    const token = readFileSync(adminToken, 'utf8').trim();
    const logged = async (): Promise<boolean> => {
      const response = await fetch(`${admin}/admin`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"command":"bans"}' });
      await response.text();
      return existsSync(log) && readFileSync(log, 'utf8').includes('"command":"bans"');
    };
    for (let tries = 0; !(await logged()); tries++) {
      if (tries > 100) throw new Error('no new server.log after SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(readFileSync(`${log}.rotated`, 'utf8')).toContain('"command":"users"');
    expect(nodeA.exitCode).toBe(null);
  }, 120_000);

  it('drains on SIGTERM: /readyz turns 503, the sending client moves to node B, nothing acknowledged is lost, exit 0', async () => {
    const bob = await onA('bob');
    const acked = new Map<string, number>();
    bob.on('sent', ({ clientMsgId, message }) => acked.set(clientMsgId, message.id));
    const dropped: (string | undefined)[] = [];
    bob.on('offline', (reason) => dropped.push(reason?.code));
    for (let i = 0; i < 10; i++) await bob.send({ kind: 'room' }, `before ${i}`, `before-${i}`);

    // A commit held in flight by a lock on the messages table: the drain cannot end before it does.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('BEGIN');
    await db.query('LOCK TABLE messages IN EXCLUSIVE MODE');
    const sends = [...Array(40).keys()].map((i) => bob.send({ kind: 'room' }, `during ${i}`, `during-${i}`));
    const blocked = async (): Promise<boolean> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted')).rows[0]!.n > 0;
    for (let tries = 0; !(await blocked()); tries++) {
      if (tries > 1000) throw new Error('no commit waited for the lock');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    nodeA.child.kill('SIGTERM');
    await nodeA.waitLine(/^draining \(SIGTERM\)$/);
    const draining = await get('/readyz');
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ ready: false });
    expect(Number(/^lanchat_draining (\S+)$/m.exec((await get('/metrics')).body)?.[1])).toBe(1);
    // It takes no new connection.
    await expect(
      new Promise((resolve, reject) => connectTcp(portA, '127.0.0.1').once('connect', resolve).once('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await db.query('COMMIT');
    await db.end();
    expect(await nodeA.waitExit()).toBe(0);
    const stored = await Promise.all(sends);
    // Answered by node A before its bye, or by node B after the move: either way bob is on B now.
    await bob.send({ kind: 'room' }, 'after', 'after-0');
    expect(dropped).toEqual(['SERVER_DRAINING']);

    // Every send stored once; every acknowledgement is what the database holds.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const rows = (await check.query<{ client_msg_id: string; id: number }>("SELECT client_msg_id, id::int AS id FROM messages WHERE client_msg_id ~ '^(before|during|after)-'")).rows;
    await check.end();
    expect(rows).toHaveLength(51);
    for (const [clientMsgId, id] of acked) expect(rows.find((row) => row.client_msg_id === clientMsgId)?.id).toBe(id);
    expect(stored.map((message) => message.clientMsgId)).toEqual([...Array(40).keys()].map((i) => `during-${i}`));
    expect(nodeA.lines).toContain('stopped');
  });
});
