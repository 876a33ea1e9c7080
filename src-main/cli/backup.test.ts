/**
 * Issue 36, item 8: the online backup of a host alone, taken while a client sends, restored by starting a
 * host on it: every message acknowledged before the backup began is there, and so are the accounts, the
 * room's certificate and its files.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../client/client.js';
import { downloadFile, uploadFile } from '../client/transfer.js';
import { type Host } from '../core/host.js';
import { login, removeDir, startTestHost, tempDir, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { backupRoom, runBackupCli } from './backup.js';

const room = useRoom({ start: {} });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every message the client can read, by id, paged through `sync`. */
async function everyMessage(client: ChatClient): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  let after = 0;
  for (;;) {
    const page = await client.request('sync', { after, limit: 100 });
    for (const message of page.messages) found.set(message.id, message.text);
    if (!page.hasMore || page.messages.length === 0) return found;
    after = page.messages.at(-1)!.id;
  }
}

describe('lanchat-host backup', () => {
  it('copies the room while a client sends; a host started on the copy has every message acknowledged before', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const bytes = randomBytes(50_000);
    const file = await uploadFile(alice.transferLink()!, { source: { bytes }, name: 'minutes.bin' });
    await alice.send({ kind: 'room' }, 'the minutes', undefined, undefined, [{ fileId: file.id }]);

    // Alice sends without pause, through the backup and after it.
    const acked = new Map<number, string>();
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending; n += 1) {
        const message = await alice.send({ kind: 'room' }, `message ${n}`);
        acked.set(message.id, message.text);
      }
    })();
    await waitFor(() => acked.size >= 30, 20_000, 'sends before the backup');
    const ackedBefore = new Map(acked);
    const copy = join(room.dir, '..', `${room.dir.split('/').pop()}-backup`);
    cleanups.push(() => removeDir(copy));
    const result = await backupRoom(room.dir, copy);
    const sentDuringBackup = acked.size - ackedBefore.size;
    await waitFor(() => acked.size >= ackedBefore.size + sentDuringBackup + 10, 20_000, 'sends after the backup');
    sending = false;
    await sender;
    expect(result.files).toBeGreaterThanOrEqual(1);

    // What the folder holds, readable by its owner only; no search index, no log, no lock.
    expect(statSync(copy).mode & 0o777).toBe(0o700);
    expect(statSync(join(copy, 'chat.sqlite')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(copy, 'tls-cert.pem'), 'utf8')).toBe(readFileSync(join(room.dir, 'tls-cert.pem'), 'utf8'));
    for (const absent of ['chat.sqlite-search', 'server.log', 'host.lock', 'chat.sqlite.partial']) expect(existsSync(join(copy, absent)), absent).toBe(false);

    // The restore: a host started on the copy, while the original still runs.
    const restored: Host = await startTestHost(copy);
    cleanups.push(() => restored.stop());
    expect(restored.fingerprint).toBe(room.host.fingerprint);
    const bobThere = await login(restored, 'bob');
    cleanups.push(() => bobThere.close());
    const there = await everyMessage(bobThere);
    for (const [id, text] of ackedBefore) expect(there.get(id), `message ${id}`).toBe(text);
    // Nothing but what the room held: each message there is one the original stored under that id.
    const original = await everyMessage(bob);
    for (const [id, text] of there) expect(original.get(id)).toBe(text);
    const got = await downloadFile(bobThere.transferLink()!, { fileId: file.id });
    expect(got.bytes?.equals(bytes)).toBe(true);
    // The search index is built again from the messages.
    const hits = await bobThere.request('search', { query: 'minutes' });
    expect(hits.hits.map((hit) => hit.message.text)).toContain('the minutes');
  });

  it('refuses a folder that exists, a folder with no room, and a clustered host; reads the data folder from a config file', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { env: {}, print: (line: string) => out.push(line), printError: (line: string) => err.push(line) };
    const base = tempDir('lanchat-backup-');
    cleanups.push(() => removeDir(base));
    expect(await runBackupCli(['--data', room.dir, '--to', room.dir], io)).toBe(2);
    expect(err.pop()).toMatch(/exists already/);
    mkdirSync(join(base, 'empty'));
    expect(await runBackupCli(['--data', join(base, 'empty'), '--to', join(base, 'x')], io)).toBe(2);
    expect(err.pop()).toMatch(/no room in .*chat\.sqlite/);
    const config = join(base, 'lanchat.yaml');
    writeFileSync(config, `data: ${room.dir}\npostgres: postgres://lanchat@db/lanchat\n`);
    expect(await runBackupCli(['--config', config, '--to', join(base, 'x')], io)).toBe(2);
    expect(err.pop()).toMatch(/pg_dump/);
    writeFileSync(config, `data: ${room.dir}\n`);
    expect(await runBackupCli(['--config', config, '--to', join(base, 'copy')], io)).toBe(0);
    expect(out.pop()).toMatch(/^backed up .* to .*copy: database \d+ bytes, 0 files$/);
    const restored = await startTestHost(join(base, 'copy'));
    cleanups.push(() => restored.stop());
  });
});
