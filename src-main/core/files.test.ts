/** Files through the App API: two app cores, one hosting, over a real room and real files. */
import { randomBytes } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent, TransferEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { AppCore } from './app.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(): { core: AppCore; dir: string; events: AppEvent[] } {
  const dir = tempDir('lanchat-files-app-');
  const core = new AppCore({ profileDir: dir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => removeDir(dir));
  cleanups.push(() => core.shutdown());
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  return { core, dir, events };
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const transfers = (events: AppEvent[], id: string): TransferEvent[] =>
  events.filter((event): event is TransferEvent => event.type === 'transfer' && event.transfer === id);

describe('files through the App API', () => {
  it('sends files with a caption, reports progress, and the other app saves them', async () => {
    const alice = newCore();
    const bob = newCore();
    const { hosting } = unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
    unwrap(await bob.core.join({ host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' }));

    const bytes = randomBytes(2_000_000);
    const path = join(alice.dir, 'plan.bin');
    writeFileSync(path, bytes);
    const { transfers: [upload] } = unwrap(
      await alice.core.sendFiles({ kind: 'room' }, [{ path }, { name: 'note.txt', data: Buffer.from('hello').toString('base64') }], 'the plan'),
    );
    let received: ChatMessage | undefined;
    await waitFor(() => (received = bob.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).find((m) => m.text === 'the plan')) !== undefined, 10_000, 'the message');
    expect(received!.attachments!.map((file) => [file.name, file.size])).toEqual([['plan.bin', bytes.length], ['note.txt', 5]]);
    const uploadEvents = transfers(alice.events, upload!);
    expect(uploadEvents[0]).toMatchObject({ direction: 'upload', name: 'plan.bin', status: 'running' });
    expect(uploadEvents.at(-1)).toMatchObject({ status: 'done', fileId: received!.attachments![0]!.id });
    expect(uploadEvents.some((e) => e.progress?.bytes === bytes.length)).toBe(true);

    const saved = unwrap(await bob.core.downloadFile(received!.attachments![0]!.id, 'plan.bin', undefined));
    expect(readFileSync(saved.path).equals(bytes)).toBe(true);
    expect(transfers(bob.events, saved.transfer).at(-1)).toMatchObject({ direction: 'download', status: 'done', path: saved.path });
    // Saved files are never overwritten.
    expect(await bob.core.downloadFile(received!.attachments![0]!.id, 'plan.bin', saved.path)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('cancels an upload: nothing is sent', async () => {
    const alice = newCore();
    unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
    const path = join(alice.dir, 'huge.bin');
    writeFileSync(path, randomBytes(40_000_000));
    const { transfers: [upload] } = unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ path }], 'never'));
    await waitFor(() => transfers(alice.events, upload!).some((e) => (e.progress?.bytes ?? 0) > 0), 10_000, 'the upload to start');
    unwrap(await alice.core.cancelTransfer(upload!));
    await waitFor(() => transfers(alice.events, upload!).some((e) => e.status === 'cancelled'), 10_000, 'the cancellation');
    expect(alice.events.some((e) => e.type === 'outbox')).toBe(false);
  });

  it('refuses a file over the host’s limit before sending a byte', async () => {
    const alice = newCore();
    unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
    const path = join(alice.dir, 'big.iso');
    writeFileSync(path, '');
    truncateSync(path, 101 * 1024 * 1024);
    expect(await alice.core.sendFiles({ kind: 'room' }, [{ path }], '')).toEqual({
      ok: false,
      error: { code: 'FILE_TOO_LARGE', message: 'big.iso is too large: the host allows 100 MB' },
    });
  });
});
