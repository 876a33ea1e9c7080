/**
 * Files through the App API when something is off: a name the host would refuse, a name no file system
 * can save as sent, the host gone mid-transfer, a full disk.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent, TransferEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { fillDisk, useSmallDisk } from '../testing/small-disk.js';
import { AppCore } from './app.js';
import { downloadName, downloadsDir } from './transfers-file.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(dir = tempDir('lanchat-files-trouble-')): { core: AppCore; dir: string; events: AppEvent[] } {
  const core = new AppCore({ profileDir: dir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => removeDir(dir), () => core.shutdown());
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  return { core, dir, events };
}

const messageOf = (events: AppEvent[], text: string): ChatMessage | undefined =>
  events.flatMap((e) => (e.type === 'message' && e.message.text === text ? [e.message] : []))[0];

it('sends files named with a bidi override or a control character under fitted names, not refused', async () => {
  const { core, dir, events } = newCore();
  const hosted = await core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' });
  expect(hosted.ok).toBe(true);

  const path = join(dir, 'invoice\u202Efdp.exe');
  writeFileSync(path, 'MZ');
  const ding = Buffer.from('ding').toString('base64');
  // 100 emoji are 400 bytes: fitted to the host's 255, and copied into the profile under a name the disk takes.
  const files = [{ path }, { name: 'bell\u0007.txt', data: ding }, { name: `${'😀'.repeat(100)}.txt`, data: ding }];
  const sent = await core.sendFiles({ kind: 'room' }, files, 'names');
  expect(sent.ok).toBe(true);

  let message: ChatMessage | undefined;
  await waitFor(() => (message = messageOf(events, 'names')) !== undefined, 'the message');
  const fitted = ['invoice_fdp.exe', 'bell_.txt', `${'😀'.repeat(62)}.txt`];
  expect(message!.attachments!.map((file) => file.name)).toEqual(fitted);
  const transfers = events.filter((e): e is TransferEvent => e.type === 'transfer');
  // The uploads run side by side: any may finish first.
  expect(transfers.filter((e) => e.status === 'done').map((e) => e.name).sort()).toEqual([...fitted].sort());
  expect(transfers.some((e) => e.status === 'failed')).toBe(false);
});

it('a download while the host is gone says it is waiting for the host, then finishes when the host is back', async () => {
  const alice = newCore();
  const bob = newCore();
  // Hosted again on the same port: one no other test's connection can take meanwhile.
  const room = { roomName: 'Lab', port: await freePort(), name: 'alice', password: 'alice-secret' };
  expect((await alice.core.host(room)).ok).toBe(true);
  expect((await bob.core.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' })).ok).toBe(true);
  const bytes = Buffer.from('the minutes of the meeting');
  expect((await alice.core.sendFiles({ kind: 'room' }, [{ name: 'minutes.txt', data: bytes.toString('base64') }], 'minutes')).ok).toBe(true);
  let message: ChatMessage | undefined;
  await waitFor(() => (message = messageOf(bob.events, 'minutes')) !== undefined, 'the message');
  expect((await alice.core.stopHosting()).ok).toBe(true);

  const download = bob.core.downloadFile(message!.attachments![0]!.id, 'minutes.txt', undefined);
  const downloads = (): TransferEvent[] => bob.events.filter((e): e is TransferEvent => e.type === 'transfer' && e.direction === 'download');
  await waitFor(() => downloads().some((e) => e.status === 'running' && e.waiting === true), 'the download to wait for the host');
  expect(downloads().some((e) => e.status === 'failed')).toBe(false);

  expect((await alice.core.host(room)).ok).toBe(true);
  const saved = await download;
  if (!saved.ok) throw new Error(saved.error.message);
  expect(readFileSync(saved.value.path).equals(bytes)).toBe(true);
  expect(downloads().at(-1)).toMatchObject({ status: 'done', fileId: message!.attachments![0]!.id });
});

const downloadsOf = (events: AppEvent[], transfer?: string): TransferEvent[] =>
  events.filter((e): e is TransferEvent => e.type === 'transfer' && e.direction === 'download' && (transfer === undefined || e.transfer === transfer));

/** alice hosts, bob joins; alice sends the files (name → content) in one message, which bob receives. */
async function sentToBob(files: Record<string, string>, bob = newCore()) {
  const alice = newCore();
  const hosting = await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' });
  if (!hosting.ok) throw new Error(hosting.error.message);
  const asBob = { host: '127.0.0.1', port: hosting.value.hosting!.port, name: 'bob', password: 'bob-secret' };
  expect((await bob.core.join(asBob)).ok).toBe(true);
  const outgoing = Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text).toString('base64') }));
  expect((await alice.core.sendFiles({ kind: 'room' }, outgoing, 'files')).ok).toBe(true);
  let message: ChatMessage | undefined;
  await waitFor(() => (message = messageOf(bob.events, 'files')) !== undefined, 'the message');
  return { alice, bob, asBob, files: message!.attachments! };
}

it('saves files whose names no file system or no Windows can keep as sent under names every system keeps, showing the names as sent', async () => {
  // With the file's id in front, 236 ASCII characters or 60 emoji pass the 255 bytes of a file name.
  const long = `${'a'.repeat(236)}.txt`;
  const emoji = `${'😀'.repeat(60)}.txt`;
  const names = [long, emoji, 'a?b.txt', 'a:b.txt', 'trail. ', 'NUL'];
  const { bob, files } = await sentToBob(Object.fromEntries(names.map((name, i) => [name, `content ${i}`])));
  expect(files.map((file) => file.name)).toEqual(names);

  for (const [i, file] of files.entries()) {
    const saved = await bob.core.downloadFile(file.id, file.name, undefined);
    if (!saved.ok) throw new Error(`${file.name}: ${saved.error.message}`);
    expect(readFileSync(saved.value.path, 'utf8')).toBe(`content ${i}`);
    expect(dirname(saved.value.path)).toBe(downloadsDir(bob.dir));
    const onDisk = basename(saved.value.path);
    expect(onDisk.startsWith(`${file.id}-`)).toBe(true);
    expect(Buffer.byteLength(`${onDisk}.part`)).toBeLessThanOrEqual(255);
    expect(onDisk).not.toMatch(/[<>:"\\|?*]|[. ]$/);
    // The row shows the name the sender gave.
    expect(downloadsOf(bob.events, saved.value.transfer).at(-1)).toMatchObject({ status: 'done', name: file.name });
    // Asked again by that name, the saved file answers.
    expect(await bob.core.downloadFile(file.id, file.name, undefined)).toMatchObject({ ok: true, value: { path: saved.value.path } });
  }
  expect(basename((await bob.core.downloadFile(files[0]!.id, long, undefined) as { value: { path: string } }).value.path)).toMatch(/a\.txt$/);
  expect(basename((await bob.core.downloadFile(files[1]!.id, emoji, undefined) as { value: { path: string } }).value.path)).toMatch(/😀\.txt$/);
});

it('a download recorded under a name too long to save (before names were made safe) goes on under a safe one at the next start', async () => {
  const name = `${'😀'.repeat(60)}.txt`;
  const { bob, asBob, files } = await sentToBob({ [name]: 'the long one' });
  const saved = await bob.core.downloadFile(files[0]!.id, name, undefined);
  if (!saved.ok) throw new Error(saved.error.message);
  // A file the host does not have fails for good and stays in transfers.json: it shows how this app names the account.
  expect(await bob.core.downloadFile('A'.repeat(22), 'gone.txt', undefined)).toMatchObject({ ok: false });
  await bob.core.shutdown();
  const transfersFile = join(bob.dir, 'transfers.json');
  const { account } = (JSON.parse(readFileSync(transfersFile, 'utf8')) as { downloads: { account: string }[] }).downloads[0]!;
  // What an earlier version left there: the download under way, to <id>-<name as sent>, too long to create.
  rmSync(saved.value.path);
  const path = join(downloadsDir(bob.dir), `${files[0]!.id}-${name}`);
  const record = { transfer: saved.value.transfer, account, fileId: files[0]!.id, name, path };
  writeFileSync(transfersFile, JSON.stringify({ sends: [], downloads: [record] }));

  const again = newCore(bob.dir);
  expect((await again.core.join(asBob)).ok).toBe(true);
  await waitFor(() => downloadsOf(again.events).some((e) => e.status !== 'running'), 'the resumed download to end');
  const done = downloadsOf(again.events).at(-1)!;
  expect(done).toMatchObject({ status: 'done', name, transfer: saved.value.transfer });
  expect(readFileSync(done.path!, 'utf8')).toBe('the long one');
  expect(done.path).toBe(saved.value.path);
});

it('a download to a path that cannot be written fails with the system’s reason, and Retry tries again', async () => {
  const { bob, files } = await sentToBob({ 'plan.txt': 'the plan' });
  // A file where the folder should be: not even root can write there.
  const blocker = join(bob.dir, 'not-a-folder');
  writeFileSync(blocker, '');
  const failed = await bob.core.downloadFile(files[0]!.id, 'plan.txt', join(blocker, 'plan.txt'));
  expect(failed).toMatchObject({ ok: false, error: { code: 'SAVE_FAILED' } });
  const row = downloadsOf(bob.events).at(-1)!;
  expect(row).toMatchObject({ status: 'failed', name: 'plan.txt', error: { code: 'SAVE_FAILED' } });
  expect(row.error!.message).toMatch(/EEXIST.*not-a-folder/);
  rmSync(blocker);
  expect((await bob.core.retryTransfer(row.transfer)).ok).toBe(true);
  await waitFor(() => downloadsOf(bob.events, row.transfer).at(-1)?.status === 'done', 'the retried download');
  expect(readFileSync(join(blocker, 'plan.txt'), 'utf8')).toBe('the plan');
});

describe('a download to a full disk', () => {
  const disk = useSmallDisk('2m');

  it('fails with the reason in its row, keeps the app up, Retry finishes it once there is room; at the next start it fails again without harm', async (context) => {
    const dir = disk.dir(context);
    const filler = join(dir, 'filler');
    const profile = join(dir, 'bob');
    const { bob, asBob, files } = await sentToBob({ 'report.txt': 'r'.repeat(100_000) }, newCore(profile));
    fillDisk(filler);

    const failed = await bob.core.downloadFile(files[0]!.id, 'report.txt', undefined);
    expect(failed).toMatchObject({ ok: false, error: { code: 'DISK_FULL' } });
    const row = downloadsOf(bob.events).at(-1)!;
    expect(row).toMatchObject({ status: 'failed', name: 'report.txt', error: { code: 'DISK_FULL' } });
    expect(row.error!.message).toMatch(/disk is full/);
    // The app is up and in the room.
    expect((await bob.core.send({ kind: 'room' }, 'still here')).ok).toBe(true);
    await waitFor(() => bob.events.some((e) => e.type === 'outbox' && e.status === 'sent'), 'a message to go out');

    // The full disk kept transfers.json from being written; the app only said so in its log.
    const transfersFile = join(profile, 'transfers.json');
    expect(existsSync(transfersFile)).toBe(false);

    // Recorded as under way when the app quit, it is tried again at the next start: on a full disk it
    // fails again, and the app stays up. (A file the host does not have is recorded, stopped: it shows
    // how this app names the account.)
    rmSync(filler);
    expect(await bob.core.downloadFile('A'.repeat(22), 'gone.txt', undefined)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FILE' } });
    await bob.core.shutdown();
    const { account } = (JSON.parse(readFileSync(transfersFile, 'utf8')) as { downloads: { account: string }[] }).downloads[0]!;
    const path = join(downloadsDir(profile), downloadName(files[0]!.id, 'report.txt'));
    const record = { transfer: row.transfer, account, fileId: files[0]!.id, name: 'report.txt', path };
    writeFileSync(transfersFile, JSON.stringify({ sends: [], downloads: [record] }));
    fillDisk(filler);
    const again = newCore(profile);
    expect((await again.core.join(asBob)).ok).toBe(true);
    await waitFor(() => downloadsOf(again.events).some((e) => e.status === 'failed'), 'the resumed download to fail');
    expect(downloadsOf(again.events).at(-1)).toMatchObject({ status: 'failed', transfer: row.transfer, error: { code: 'DISK_FULL' } });
    expect((await again.core.send({ kind: 'room' }, 'up after the start')).ok).toBe(true);

    rmSync(filler);
    expect((await again.core.retryTransfer(row.transfer)).ok).toBe(true);
    await waitFor(() => downloadsOf(again.events, row.transfer).at(-1)?.status === 'done', 'the retried download');
    expect(readFileSync(downloadsOf(again.events, row.transfer).at(-1)!.path!, 'utf8')).toBe('r'.repeat(100_000));
    expect(existsSync(filler)).toBe(false);
  });

  it('a file to send that cannot be copied into the profile is refused with the reason', async (context) => {
    const dir = disk.dir(context);
    const filler = join(dir, 'filler');
    const alice = newCore();
    const hosting = await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' });
    if (!hosting.ok) throw new Error(hosting.error.message);
    const carol = newCore(join(dir, 'carol'));
    expect((await carol.core.join({ host: '127.0.0.1', port: hosting.value.hosting!.port, name: 'carol', password: 'carol-secret' })).ok).toBe(true);
    fillDisk(filler);
    const data = Buffer.alloc(100_000, 1).toString('base64');
    expect(await carol.core.sendFiles({ kind: 'room' }, [{ name: 'big.bin', data }], 'big')).toMatchObject({ ok: false, error: { code: 'DISK_FULL' } });
    rmSync(filler);
    expect(await carol.core.sendFiles({ kind: 'room' }, [{ name: 'big.bin', data }], 'big')).toMatchObject({ ok: true });
  });
});
