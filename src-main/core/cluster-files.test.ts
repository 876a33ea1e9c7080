/**
 * Issue 36, item 7: a clustered room's files in its PostgreSQL database (`--files-store postgres`,
 * server/file-store/postgres.ts), no shared folder. Three nodes on Debian's PostgreSQL and
 * nats-server: the first a real `lanchat-host` process (the command line's default for a cluster
 * node), killed with -9; the other two in this process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { TransferLink } from '../client/transfer-link.js';
import { type TransferProgress, downloadFile, uploadFile } from '../client/transfer.js';
import { encodeFrame, FrameDecoder } from '../net/frame.js';
import type { FileOptions } from '../server/transfer.js';
import { type PostgresDatabases, postgresMissing, testPostgres, uniqueDatabaseName } from '../store/pg/testing.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import { CliProcess } from '../testing/process.js';
import { type Host, startHost } from './host.js';

const missing = postgresMissing ?? natsMissing;
const TITLE = 'files of a clustered room in its PostgreSQL database';
const MAX_FILE_BYTES = 3_000_000;

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
  return 'no error';
}

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let dir: string;
  let postgres: PostgresDatabases;
  let nats: NatsServer;
  let url: string;
  let db: pg.Client;
  const nodes: Host[] = [];
  const clients: ChatClient[] = [];

  /** A node's data folder with the room's key and certificate, copied from the first node's (docs/DEPLOYMENT.md). */
  function dataFolder(name: string): string {
    const folder = join(dir, name);
    mkdirSync(folder);
    for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dir, 'two', file), join(folder, file));
    return folder;
  }

  function startNode(dataDir: string, files: Omit<FileOptions, 'contents'> = {}): Promise<Host> {
    return startHost({
      dataDir,
      port: 0,
      bind: '127.0.0.1',
      passwordCost: TEST_PASSWORD_COST,
      filesStore: 'postgres',
      files: { sweepIntervalMs: 100, ...files, limits: { maxFileBytes: MAX_FILE_BYTES } },
      cluster: { postgres: url, nats: [nats.url], busSecurity: nats.security!, heartbeatMs: 300 },
    });
  }

  beforeAll(async () => {
    dir = tempDir('lanchat-cluster-files-');
    postgres = await testPostgres();
    const database = uniqueDatabaseName('files');
    [nats] = await Promise.all([NatsServer.startSecured(dir), postgres.createDatabase(database)]);
    url = postgres.url(database);
    nodes.push(await startNode(join(dir, 'two')));
    nodes.push(await startNode(dataFolder('three')));
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await db?.end();
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await nats?.stop();
    removeDir(dir);
  });

  const two = (): Host => nodes[0]!;
  const three = (): Host => nodes[1]!;

  /** Logs `name` in on the node at `port` (the account made on a node of this process, with the tests' cheap password hash). */
  async function login(port: number, name: string): Promise<ChatClient> {
    const client = new ChatClient({ host: '127.0.0.1', port, name, password: `${name}-secret`, reconnect: false });
    clients.push(client);
    await client.connect();
    return client;
  }

  /** The same session's transfers through another node: its token is the room's, in the database. */
  const through = (link: TransferLink, node: Host): TransferLink => ({ ...link, port: node.address.port });

  const bytesHeld = async (key: string): Promise<number> =>
    Number((await db.query<{ n: string }>('SELECT coalesce(sum(octet_length(data)), 0) AS n FROM file_chunks WHERE key = $1', [key])).rows[0]!.n);

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Begins an upload by hand on `port` and sends `bytes`' first `cut` bytes, leaving the link open; resolves with its id. */
  async function beginUpload(port: number, link: TransferLink, bytes: Buffer, cut: number, name: string): Promise<string> {
    const socket: TLSSocket = await new Promise((resolve, reject) => {
      const s = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder(1 << 20);
    const response = new Promise<Record<string, unknown>>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) if (frame.kind === 'frame') resolve(frame.value as Record<string, unknown>);
      }),
    );
    socket.write(encodeFrame({ type: 'upload', id: 1, token: link.token, name, size: bytes.length, sha256: sha(bytes) }));
    const { result } = (await response) as { result: { uploadId: string } };
    socket.write(bytes.subarray(0, cut));
    return result.uploadId;
  }

  it('serves a file uploaded through one node from another with no shared folder, and again once that node is killed with -9', async () => {
    // The accounts, made on a node of this process with the tests' cheap password hash.
    for (const name of ['alice', 'bob']) (await login(two().address.port, name)).close();
    const one = CliProcess.run('host', ['--bind', '127.0.0.1', '--port', '0', '--data', dataFolder('one'), '--no-announce', '--postgres', url, '--max-file-bytes', String(MAX_FILE_BYTES), ...nats.hostFlags.args], nats.hostFlags.env);
    const onePort = await one.port();
    const alice = await login(onePort, 'alice');
    const bob = await login(three().address.port, 'bob');
    // Kept for after the kill: the session is the room's, so its token opens transfers on every node.
    const aliceLink = alice.transferLink()!;

    const bytes = randomBytes(1_500_000);
    const file = await uploadFile(aliceLink, { source: { bytes }, name: 'plan.bin' });
    await alice.send({ kind: 'room' }, 'the plan', undefined, undefined, [{ fileId: file.id }]);
    expect((await downloadFile(bob.transferLink()!, { fileId: file.id })).bytes!.equals(bytes)).toBe(true);
    expect(await bytesHeld(sha(bytes))).toBe(bytes.length);

    // Two uploads under way through node one when it dies: what reached the database stays.
    const resumed = randomBytes(2_000_000);
    const left = randomBytes(700_000);
    const resumedId = await beginUpload(onePort, aliceLink, resumed, 1_200_000, 'resumed.bin');
    const leftId = await beginUpload(onePort, aliceLink, left, 600_000, 'left.bin');
    await until(async () => (await bytesHeld(`upload:${resumedId}`)) >= 1_000_000 && (await bytesHeld(`upload:${leftId}`)) >= 500_000, 'the first bytes in the database');
    one.child.kill('SIGKILL');
    await waitFor(() => one.exitCode !== null, 20_000, 'node one to die');
    expect(one.signal).toBe('SIGKILL');

    for (const node of [two(), three()]) {
      expect((await downloadFile(through(bob.transferLink()!, node), { fileId: file.id })).bytes!.equals(bytes)).toBe(true);
    }

    // The upload goes on through node three from the bytes the database holds.
    const held = await bytesHeld(`upload:${resumedId}`);
    const progress: TransferProgress[] = [];
    const done = await uploadFile(through(aliceLink, three()), { source: { bytes: resumed }, name: 'resumed.bin', uploadId: resumedId, onProgress: (p) => progress.push(p) });
    expect(progress[0]!.bytes).toBe(held);
    expect(done).toMatchObject({ id: resumedId, size: resumed.length, sha256: sha(resumed) });
    expect(await bytesHeld(`upload:${resumedId}`)).toBe(0);
    expect((await downloadFile(through(aliceLink, two()), { fileId: resumedId })).bytes!.equals(resumed)).toBe(true);

    // The other one nobody resumes: once idle, a node that sweeps forgets it and its bytes.
    const sweeper = await startNode(dataFolder('sweeper'), { uploadIdleMs: 1 });
    try {
      await until(async () => (await bytesHeld(`upload:${leftId}`)) === 0, 'the idle upload to go');
      expect((await db.query('SELECT id FROM uploads WHERE id = $1', [leftId])).rows).toEqual([]);
      expect(await codeOf(uploadFile(through(aliceLink, two()), { source: { bytes: left }, name: 'left.bin', uploadId: leftId }))).toBe(ErrorCode.UNKNOWN_FILE);
    } finally {
      await sweeper.stop();
    }
  });

  it('refuses a file over the limit, and removes a file deleted for everyone from the database', async () => {
    const carol = await login(two().address.port, 'carol');
    const dave = await login(three().address.port, 'dave');
    expect(await codeOf(uploadFile(carol.transferLink()!, { source: { bytes: randomBytes(MAX_FILE_BYTES + 1) }, name: 'huge.bin' }))).toBe(ErrorCode.FILE_TOO_LARGE);

    const bytes = randomBytes(300_000);
    const file = await uploadFile(carol.transferLink()!, { source: { bytes }, name: 'oops.bin' });
    const sent = await carol.send({ kind: 'room' }, 'wrong file', undefined, undefined, [{ fileId: file.id }]);
    expect((await downloadFile(dave.transferLink()!, { fileId: file.id })).bytes!.equals(bytes)).toBe(true);
    await carol.request('delete', { messageId: sent.id });
    await until(async () => (await bytesHeld(sha(bytes))) === 0, 'the content to go');
    expect(await codeOf(downloadFile(dave.transferLink()!, { fileId: file.id }))).toBe(ErrorCode.UNKNOWN_FILE);
  });
});
