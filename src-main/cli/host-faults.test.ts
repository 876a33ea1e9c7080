/**
 * Faults of the headless host as a real process: kill -9 in the middle of a burst
 * of sends, a damaged or locked database at start, and its limit flags.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import { openStore } from '../store/store.js';
import { killAfterAcks, login, removeDir, seedIdentity, seedUsers, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { CliProcess } from '../testing/process.js';

/** A headless host on 127.0.0.1, where these tests register their users from one address at once. */
function startHostProcess(args: string[]): CliProcess {
  return CliProcess.run('host', ['--bind', '127.0.0.1', '--address-registrations-per-minute', '1000', ...args]);
}

const clients: ChatClient[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function dataDir(): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  await seedIdentity(dir);
  return dir;
}

describe('kill -9 of the host in the middle of a burst', () => {
  it('keeps every acknowledged message; clients resend the rest and nothing is stored twice', async () => {
    const dir = await dataDir();
    const senders = 10;
    const perSender = 100;
    const names = [...Array(senders).keys()].map((i) => `user${i}`);
    await seedUsers(dir, names);
    // Not port 0: the restart needs a port that no other test's connection can take meanwhile.
    const port = await freePort();
    const first = startHostProcess(['--port', String(port), '--data', dir]);
    await first.port();

    const users = await Promise.all(names.map((name) => login({ address: { port } }, name)));
    clients.push(...users);
    const { acked, failed, ackedAtKill } = killAfterAcks(users, 150, () => first.child.kill('SIGKILL'));
    const expected = users.flatMap((client, u) => [...Array(perSender).keys()].map((i) => ({ client, id: `u${u}-m${i}` })));
    const sends = expected.map(({ client, id }) => client.send({ kind: 'room' }, `message ${id}`, id));

    await waitFor(() => first.exitCode !== null, 20_000, 'the host to die');
    expect(first.signal).toBe('SIGKILL');
    expect(ackedAtKill()).toBeGreaterThanOrEqual(150);
    // Killed for real mid-burst: messages were still waiting for their acknowledgement.
    expect(ackedAtKill()).toBeLessThan(senders * perSender);
    const ackedBeforeRestart = new Map(acked);

    const second = startHostProcess(['--port', String(port), '--data', dir]);
    await second.port();
    const stored = await Promise.all(sends);
    expect(failed).toEqual([]);

    // A client whose outbox emptied may still be catching up; history waits until it is online.
    await waitFor(() => users[0]!.state === 'online', 20_000, 'the first user to be online again');
    const history = await allRoomMessages(users[0]!);
    const ids = history.map((m) => m.clientMsgId);
    expect(ids.length).toBe(senders * perSender);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(expected.map((e) => e.id)));
    const byClientId = new Map(history.map((m) => [m.clientMsgId, m.id]));
    // What a client saw acknowledged before the crash is there, under the same id.
    for (const [clientMsgId, id] of ackedBeforeRestart) expect(byClientId.get(clientMsgId)).toBe(id);
    for (const message of stored) expect(byClientId.get(message.clientMsgId)).toBe(message.id);
  });
});

/** The whole room history, oldest first, paging backwards. */
async function allRoomMessages(client: ChatClient): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history', { conv: 'room', before: before, limit: 200 });
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.id;
  }
  return pages.flat();
}

describe('the database at start', () => {
  it('refuses a damaged database file with a clear error and leaves it untouched', async () => {
    const dir = await dataDir();
    const file = join(dir, 'chat.sqlite');
    const junk = randomBytes(64 * 1024);
    writeFileSync(file, junk);
    const host = startHostProcess(['--port', '0', '--data', dir]);
    expect(await host.waitExit()).toBe(1);
    expect(host.output).toContain(`host: "${file}" is not a LanChat database or is damaged`);
    expect(readFileSync(file).equals(junk)).toBe(true);
  });

  it('refuses a database locked by another program with a clear error', async () => {
    const dir = await dataDir();
    const file = join(dir, 'chat.sqlite');
    openStore(file).close();
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const host = startHostProcess(['--port', '0', '--data', dir]);
      expect(await host.waitExit()).toBe(1);
      expect(host.output).toContain(`host: the database "${file}" is locked by another program`);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
