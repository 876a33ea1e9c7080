/** Files through the App API: two app cores, one hosting, over a real room and real files. */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent, TransferEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor, unwrap } from '../testing/harness.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { freePort } from '../testing/ports.js';
import { AppCore } from './app.js';
import type { DesktopFiles } from './files.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Alice's app hosting the room "Lab", and what bob's app joins it with. */
async function aliceHosting(): Promise<{ alice: ReturnType<typeof newCore>; asBob: Parameters<AppCore['join']>[0] }> {
  const alice = newCore();
  const { hosting } = unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
  return { alice, asBob: { host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' } };
}

function newCore(dir = tempDir('lanchat-files-app-'), desktopFiles?: DesktopFiles): { core: AppCore; dir: string; events: AppEvent[] } {
  const core = new AppCore({ profileDir: dir, passwordCost: TEST_PASSWORD_COST, ...(desktopFiles ? { desktopFiles } : {}) });
  cleanups.push(() => removeDir(dir));
  cleanups.push(() => core.shutdown());
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  return { core, dir, events };
}

const transfers = (events: AppEvent[], id: string): TransferEvent[] =>
  events.filter((event): event is TransferEvent => event.type === 'transfer' && event.transfer === id);

/**
 * Bob's upload of a 40 MB file to alice's room, with the message `text`, through a relay that loses what the
 * upload writes past its first megabyte: however fast the machine, it is under way until cancelled. Resolves
 * once the host's partial file holds bytes (what it has not written when the link is cut is dropped).
 */
async function stalledUpload(text: string) {
  const { alice, asBob } = await aliceHosting();
  const proxy = await LinkProxy.start(await freePort(), () => asBob.port);
  cleanups.push(() => proxy.close());
  proxy.muteClientsAfter(1_000_000);
  const bob = newCore();
  unwrap(await bob.core.join({ ...asBob, port: proxy.port }));
  const partials = join(alice.dir, 'host', 'files', 'partial');
  const path = join(bob.dir, 'huge.bin');
  writeFileSync(path, randomBytes(40_000_000));
  const { transfers: [upload] } = unwrap(await bob.core.sendFiles({ kind: 'room' }, [{ path }], text));
  await waitFor(() => readdirSync(partials).some((name) => statSync(join(partials, name)).size > 0), 'its first part at the host');
  return { alice, bob, proxy, partials, upload };
}

describe('files through the App API', () => {
  it('sends files with a caption, reports progress, and the other app saves them', async () => {
    const { alice, asBob } = await aliceHosting();
    const bob = newCore();
    unwrap(await bob.core.join(asBob));

    const bytes = randomBytes(2_000_000);
    const path = join(alice.dir, 'plan.bin');
    writeFileSync(path, bytes);
    const { transfers: [upload] } = unwrap(
      await alice.core.sendFiles({ kind: 'room' }, [{ path }, { name: 'note.txt', data: Buffer.from('hello').toString('base64') }], 'the plan'),
    );
    let received: ChatMessage | undefined;
    await waitFor(() => (received = bob.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).find((m) => m.text === 'the plan')) !== undefined, 'the message');
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

  it('cancels an upload: nothing is sent until Retry, which goes on from where it stopped', async () => {
    const { alice, bob, proxy, upload } = await stalledUpload('at last');
    unwrap(await bob.core.cancelTransfer(upload!));
    await waitFor(() => transfers(bob.events, upload!).some((e) => e.status === 'cancelled'), 'the cancellation');
    expect(bob.events.some((e) => e.type === 'outbox')).toBe(false);
    // Retry, on a link the relay no longer cuts short, goes on from where it stopped, and the message goes out after all.
    proxy.muteClientsAfter(Infinity);
    unwrap(await bob.core.retryTransfer(upload!));
    await waitFor(() => alice.events.some((e) => e.type === 'message' && e.message.text === 'at last'), 30_000, 'the message');
    const again = transfers(bob.events, upload!);
    const cancelledAt = again.findIndex((e) => e.status === 'cancelled');
    expect(again.slice(cancelledAt).find((e) => e.progress !== undefined)!.progress!.bytes).toBeGreaterThan(0);
  });

  it('a cancelled upload dismissed is cancelled on the host too: its partial file goes', async () => {
    const { bob, partials, upload } = await stalledUpload('never');
    unwrap(await bob.core.cancelTransfer(upload!));
    await waitFor(() => transfers(bob.events, upload!).some((e) => e.status === 'cancelled'), 'the cancellation');
    // Cancelled, it can still be retried: the host keeps what arrived.
    expect(readdirSync(partials)).toHaveLength(1);
    // Dismissed, it is gone for good.
    unwrap(await bob.core.cancelTransfer(upload!));
    await waitFor(() => readdirSync(partials).length === 0, 'the host to forget the upload');
  });

  it('refuses a file over the host’s limit before sending a byte', async () => {
    const alice = newCore();
    unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
    const path = join(alice.dir, 'big.iso');
    writeFileSync(path, '');
    truncateSync(path, 101 * 1024 * 1024);
    expect(await alice.core.sendFiles({ kind: 'room' }, [{ path }], '')).toEqual({
      ok: false,
      error: { code: 'FILE_TOO_LARGE', message: 'big.iso is too large: the host allows 100 MB', file: 'big.iso' },
    });
  });

  it('a file over the host’s limit per day fails with the host’s retryAfterMs, kept across a restart: the app words that limit by it', async () => {
    const alice = newCore();
    // Hosted again on the same port after the restart: one no other test's connection can take meanwhile.
    const port = await freePort();
    unwrap(await alice.core.host({ roomName: 'Lab', port, name: 'alice', password: 'alice-secret', fileLimits: { maxFileBytesPerDay: 1000 } }));
    const { transfers: [upload] } = unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ name: 'big.bin', data: randomBytes(2000).toString('base64') }], ''));
    await waitFor(() => transfers(alice.events, upload!).some((e) => e.status === 'failed'), 'the refusal');
    const failed = transfers(alice.events, upload!).find((e) => e.status === 'failed')!;
    expect(failed.error).toMatchObject({ code: 'STORAGE_FULL', retryAfterMs: expect.any(Number) as number });
    await alice.core.shutdown();

    const again = newCore(alice.dir);
    unwrap(await again.core.host({ roomName: 'Lab', port, name: 'alice', password: 'alice-secret', fileLimits: { maxFileBytesPerDay: 1000 } }));
    await waitFor(() => transfers(again.events, upload!).some((e) => e.status === 'failed'), 'the refusal reported again');
    expect(transfers(again.events, upload!).find((e) => e.status === 'failed')!.error).toEqual(failed.error);
  });

  it('an upload cut by the app quitting goes on from where it stopped when the app is back, and then sends its message, a reply', async () => {
    const { alice, asBob } = await aliceHosting();
    unwrap(await alice.core.send({ kind: 'room' }, 'send me the dump?'));
    await waitFor(() => alice.events.some((e) => e.type === 'message' && e.message.text === 'send me the dump?'), 'the question');
    const question = alice.events.flatMap((e) => (e.type === 'message' && e.message.text === 'send me the dump?' ? [e.message] : []))[0]!;
    const first = newCore();
    unwrap(await first.core.join(asBob));
    const bytes = randomBytes(60_000_000);
    const { transfers: [upload] } = unwrap(
      await first.core.sendFiles({ kind: 'room' }, [{ name: 'dump.bin', data: bytes.toString('base64') }], 'the dump', question.id),
    );
    await waitFor(() => transfers(first.events, upload!).some((e) => (e.progress?.bytes ?? 0) > 0), 20_000, 'the upload to start');
    await first.core.shutdown();
    expect(alice.events.some((e) => e.type === 'message' && e.message.text === 'the dump')).toBe(false);

    const second = newCore(first.dir);
    unwrap(await second.core.join(asBob));
    await waitFor(() => alice.events.some((e) => e.type === 'message' && e.message.text === 'the dump'), 30_000, 'the message');
    const resumed = transfers(second.events, upload!).filter((e) => e.progress !== undefined);
    expect(resumed[0]!.progress!.bytes).toBeGreaterThan(0);
    expect(transfers(second.events, upload!).at(-1)).toMatchObject({ status: 'done', target: { kind: 'room' } });
    const message = alice.events.flatMap((e) => (e.type === 'message' && e.message.text === 'the dump' ? [e.message] : []))[0]!;
    expect(message.replyTo).toMatchObject({ id: question.id, from: 'alice', snippet: 'send me the dump?' });
    const saved = unwrap(await alice.core.downloadFile(message.attachments![0]!.id, 'dump.bin', undefined));
    expect(readFileSync(saved.path).equals(bytes)).toBe(true);
    // The copy of the bytes kept to resume is gone with the message sent.
    expect(readdirSync(join(first.dir, 'outgoing'))).toEqual([]);
  });

  it('an upload the host forgot while the app was closed (idle too long) starts again when the app is back, and its message goes', async () => {
    const { alice, asBob } = await aliceHosting();
    // Through a relay that holds the host's answers once the upload is under way: the app quits before it ends.
    const proxy = await LinkProxy.start(await freePort(), () => asBob.port);
    cleanups.push(() => proxy.close());
    const first = newCore();
    unwrap(await first.core.join({ ...asBob, port: proxy.port }));
    const bytes = randomBytes(20_000_000);
    proxy.holdHostAfter(1_000_000);
    const { transfers: [upload] } = unwrap(await first.core.sendFiles({ kind: 'room' }, [{ name: 'late.bin', data: bytes.toString('base64') }], 'late'));
    await waitFor(() => transfers(first.events, upload!).some((e) => (e.progress?.bytes ?? 0) > 0), 20_000, 'the upload to start');
    await first.core.shutdown();
    proxy.releaseHost();
    // As the host has it once the upload idled past its time: an id it does not know.
    const recorded = join(first.dir, 'transfers.json');
    const pending = JSON.parse(readFileSync(recorded, 'utf8')) as { sends: { files: { uploadId?: string }[] }[] };
    expect(pending.sends[0]!.files[0]!.uploadId).toBeDefined();
    pending.sends[0]!.files[0]!.uploadId = 'A'.repeat(22);
    writeFileSync(recorded, JSON.stringify(pending));

    const second = newCore(first.dir);
    unwrap(await second.core.join({ ...asBob, port: proxy.port }));
    await waitFor(() => alice.events.some((e) => e.type === 'message' && e.message.text === 'late'), 30_000, 'the message');
    expect(transfers(second.events, upload!).some((e) => e.status === 'failed')).toBe(false);
    const message = alice.events.flatMap((e) => (e.type === 'message' && e.message.text === 'late' ? [e.message] : []))[0]!;
    expect(readFileSync(unwrap(await alice.core.downloadFile(message.attachments![0]!.id, 'late.bin', undefined)).path).equals(bytes)).toBe(true);
  });

  it('a download cut by the app quitting goes on from the part saved when the app is back; the same file is not fetched twice', async () => {
    const { alice, asBob } = await aliceHosting();
    const first = newCore();
    unwrap(await first.core.join(asBob));
    const bytes = randomBytes(60_000_000);
    const path = join(alice.dir, 'film.bin');
    writeFileSync(path, bytes);
    unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ path }], 'the film'));
    let message: ChatMessage | undefined;
    await waitFor(() => (message = first.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).find((m) => m.text === 'the film')) !== undefined, 20_000, 'the message');
    const fileId = message!.attachments![0]!.id;
    void first.core.downloadFile(fileId, 'film.bin', undefined);
    await waitFor(() => first.events.some((e) => e.type === 'transfer' && e.direction === 'download' && (e.progress?.bytes ?? 0) > 0), 20_000, 'the download to start');
    await first.core.shutdown();

    const second = newCore(first.dir);
    unwrap(await second.core.join(asBob));
    await waitFor(() => second.events.some((e) => e.type === 'transfer' && e.status === 'done'), 30_000, 'the download');
    const events = second.events.filter((e): e is TransferEvent => e.type === 'transfer');
    expect(events.find((e) => e.progress !== undefined)!.progress!.bytes).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ direction: 'download', fileId, status: 'done' });
    expect(readFileSync(events.at(-1)!.path!).equals(bytes)).toBe(true);
    // Asked again, the saved file is the answer: no second transfer.
    expect(unwrap(await second.core.downloadFile(fileId, 'film.bin', undefined)).path).toBe(events.at(-1)!.path);
    expect(second.events.filter((e) => e.type === 'transfer' && e.status === 'running' && e.progress === undefined)).toHaveLength(1);
  });

  it('a failed download is retried on request, and a cancelled one is forgotten', async () => {
    const { asBob } = await aliceHosting();
    const bob = newCore();
    unwrap(await bob.core.join(asBob));
    // A file id the host does not know fails for good; Retry asks again, Cancel forgets it.
    const failed = await bob.core.downloadFile('A'.repeat(22), 'gone.txt', undefined);
    expect(failed).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FILE' } });
    const gone = bob.events.filter((e): e is TransferEvent => e.type === 'transfer' && e.status === 'failed')[0]!;
    unwrap(await bob.core.retryTransfer(gone.transfer));
    await waitFor(() => bob.events.filter((e) => e.type === 'transfer' && e.status === 'failed').length === 2, 'the retry');
    unwrap(await bob.core.cancelTransfer(gone.transfer));
    expect(await bob.core.retryTransfer(gone.transfer)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('a failed download asked for again is the same transfer: retried, not doubled, and reported once when the app is back', async () => {
    const { asBob } = await aliceHosting();
    const bob = newCore();
    unwrap(await bob.core.join(asBob));
    const failedIds = (events: AppEvent[]): string[] =>
      events.flatMap((e) => (e.type === 'transfer' && e.direction === 'download' && e.status === 'failed' ? [e.transfer] : []));
    // Asked for twice (the image viewer opened again): the second asks the host again under the same transfer.
    expect(await bob.core.downloadFile('A'.repeat(22), 'gone.png', undefined)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FILE' } });
    expect(await bob.core.downloadFile('A'.repeat(22), 'gone.png', undefined)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FILE' } });
    expect(failedIds(bob.events)).toHaveLength(2);
    expect(new Set(failedIds(bob.events)).size).toBe(1);
    await bob.core.shutdown();

    const again = newCore(bob.dir);
    unwrap(await again.core.join(asBob));
    await waitFor(() => failedIds(again.events).length > 0, 'the failed download reported again');
    // One join, one resume: had the second request added a download, two would be reported.
    expect(failedIds(again.events)).toEqual([failedIds(bob.events)[0]]);
  });

  it('a download to where a failed one was to save replaces it', async () => {
    const { alice, asBob } = await aliceHosting();
    const bob = newCore();
    unwrap(await bob.core.join(asBob));
    unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ name: 'plan.txt', data: Buffer.from('the plan').toString('base64') }], 'the plan'));
    let message: ChatMessage | undefined;
    await waitFor(() => (message = bob.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).find((m) => m.text === 'the plan')) !== undefined, 'the message');
    const path = join(bob.dir, 'saved.txt');
    expect(await bob.core.downloadFile('A'.repeat(22), 'gone.txt', path)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FILE' } });
    const saved = unwrap(await bob.core.downloadFile(message!.attachments![0]!.id, 'plan.txt', path));
    expect(readFileSync(saved.path, 'utf8')).toBe('the plan');
    await bob.core.shutdown();

    // Nothing is left to report: the failed one went when the other took its place.
    const again = newCore(bob.dir);
    unwrap(await again.core.join(asBob));
    unwrap(await again.core.send({ kind: 'room' }, 'back'));
    await waitFor(() => again.events.some((e) => e.type === 'outbox' && e.status === 'sent'), 'a round trip after the resume');
    expect(again.events.filter((e) => e.type === 'transfer')).toEqual([]);
  });

  it('opens a received file on the desktop only when asked, and a program only once confirmed', async () => {
    const { alice, asBob } = await aliceHosting();
    // Electron's shell cannot run here: this stands in for it and records what the core asked of it.
    const opened: string[] = [];
    const shown: string[] = [];
    const suggested: string[] = [];
    const saveDir = tempDir('lanchat-save-');
    cleanups.push(() => removeDir(saveDir));
    const bob = newCore(undefined, {
      open: (path) => Promise.resolve(void opened.push(path)).then(() => ''),
      showInFolder: (path) => void shown.push(path),
      chooseSavePath: (name) => {
        suggested.push(name);
        return Promise.resolve(join(saveDir, name));
      },
    });
    unwrap(await bob.core.join(asBob));
    // An ELF header under an innocent name: risky by its content.
    const elf = Buffer.concat([Buffer.from('7f454c46020101000000000000000000', 'hex'), randomBytes(200)]);
    unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ name: 'notes.txt', data: elf.toString('base64') }, { name: 'plan.txt', data: Buffer.from('the plan').toString('base64') }], 'two'));
    let message: ChatMessage | undefined;
    await waitFor(() => (message = bob.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).find((m) => m.text === 'two')) !== undefined, 'the message');
    const [program, plan] = message!.attachments!;

    expect(opened).toEqual([]);
    unwrap(await bob.core.openFile(plan!.id, 'plan.txt', false));
    expect(opened).toHaveLength(1);
    expect(readFileSync(opened[0]!, 'utf8')).toBe('the plan');
    expect(await bob.core.openFile(program!.id, 'notes.txt', false)).toMatchObject({ ok: false, error: { code: 'RISKY_FILE' } });
    expect(opened).toHaveLength(1);
    unwrap(await bob.core.openFile(program!.id, 'notes.txt', true));
    expect(opened).toHaveLength(2);

    unwrap(await bob.core.showFileInFolder(plan!.id, 'plan.txt'));
    expect(shown).toEqual([opened[0]]);
    const saved = unwrap(await bob.core.saveFileAs(plan!.id, 'plan.txt'));
    expect(readFileSync(saved!.path, 'utf8')).toBe('the plan');
    // The dialog suggests a name the system can save: the name as sent where it can, else made safe.
    unwrap(await bob.core.saveFileAs(plan!.id, 'plan: v2?.txt'));
    expect(suggested).toEqual(['plan.txt', 'plan_ v2_.txt']);
    // The browser shell has none of these.
    expect(await alice.core.openFile(plan!.id, 'plan.txt', true)).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });
});
