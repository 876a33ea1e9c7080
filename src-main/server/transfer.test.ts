/**
 * Files over real TLS transfer connections to a real host with its data folder on disk
 * (docs/PROTOCOL.md §18): upload, download, resume, integrity, authorisation, limits,
 * storage once per content, removal with the last message, a full disk.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { TransferLink } from '../client/transfer-link.js';
import { type TransferProgress, downloadFile, uploadFile } from '../client/transfer.js';
import { encodeFrame, FrameDecoder } from '../net/frame.js';
import { nextEvent, waitFor } from '../testing/harness.js';
import { Room, useRoom } from '../testing/room.js';

const room = useRoom();
const FAST_SWEEP = { sweepIntervalMs: 50 };

function link(client: ChatClient): TransferLink {
  return client.transferLink()!;
}

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file of random bytes in the room's folder. */
function randomFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(room.dir, `${name}-${randomBytes(4).toString('hex')}`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
  return 'no error';
}

/** Contents the host keeps on disk (its files folder but the partial uploads). */
function storedBlobs(dir = room.dir): string[] {
  const files = join(dir, 'files');
  if (!existsSync(files)) return [];
  return readdirSync(files)
    .filter((entry) => entry !== 'partial')
    .flatMap((entry) => readdirSync(join(files, entry)));
}

function partials(dir = room.dir): string[] {
  return readdirSync(join(dir, 'files', 'partial'));
}

/** A transfer connection by hand: the opening frame, its response, then whatever the test writes. */
class RawTransfer {
  readonly frames: Record<string, unknown>[] = [];
  private readonly decoder = new FrameDecoder(1 << 20);
  closed = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) if (frame.kind === 'frame') this.frames.push(frame.value as Record<string, unknown>);
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawTransfer> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(new RawTransfer(socket)));
      socket.once('error', reject);
    });
  }

  async first(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.socket.write(encodeFrame(frame));
    await waitFor(() => this.frames.length > 0 || this.closed, 'the response');
    return this.frames[0]!;
  }
}

/** Begins an upload by hand, sends its first `cut` bytes and drops the link; resolves once the host holds them. */
async function cutUpload(client: ChatClient, bytes: Buffer, cut: number, name = 'big.bin'): Promise<string> {
  const raw = await RawTransfer.open(room.port);
  const response = await raw.first({ type: 'upload', id: 1, token: link(client).token, name, size: bytes.length, sha256: sha(bytes) });
  const { uploadId } = (response as { result: { uploadId: string } }).result;
  await new Promise<void>((resolve) => raw.socket.write(bytes.subarray(0, cut), () => resolve()));
  const partial = join(room.dir, 'files', 'partial', uploadId);
  await waitFor(() => existsSync(partial) && readFileSync(partial).length === cut, 'the host to hold the first bytes');
  raw.socket.destroy();
  return uploadId;
}

/**
 * A download that reads nothing, so the host's copy waits on its full buffers; `resume` reads on
 * until the host closes it and resolves with the bytes that came (all of them if nothing cut it).
 */
async function stalledDownload(client: ChatClient, fileId: string, port = room.port): Promise<{ resume: () => Promise<number> }> {
  const raw = await RawTransfer.open(port);
  raw.socket.pause();
  raw.socket.write(encodeFrame({ type: 'download', id: 1, token: link(client).token, fileId, offset: 0 }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  let received = 0;
  raw.socket.on('data', (chunk: Buffer) => (received += chunk.length));
  return {
    resume: async () => {
      raw.socket.resume();
      await waitFor(() => raw.closed, 'the download to end');
      return received;
    },
  };
}

describe('files', () => {
  it('go up, come with the message to the others and down again, byte for byte; search finds them by name', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    expect(bob.session!.hello).toMatchObject({ protocol: '1.2', limits: { maxFileBytes: 100 * 1024 * 1024 } });
    expect(bob.session!.hello.features).toContain('files');
    const { path, bytes } = randomFile('report', 300_000);
    const progress: TransferProgress[] = [];
    const file = await uploadFile(link(alice), { source: { path }, name: 'Quarterly Report.pdf', onProgress: (p) => progress.push(p) });
    expect(file).toMatchObject({ name: 'Quarterly Report.pdf', size: bytes.length, sha256: sha(bytes), type: 'application/octet-stream' });
    expect(progress.at(-1)).toMatchObject({ bytes: bytes.length, total: bytes.length, secondsLeft: 0 });

    const arrived = nextEvent(bob, 'message');
    const sent = await alice.send({ kind: 'room' }, '', undefined, undefined, [{ fileId: file.id }]);
    expect(sent.attachments).toEqual([file]);
    const [message] = await arrived;
    expect(message.attachments).toEqual([file]);

    const target = join(room.dir, 'downloads', 'report.pdf');
    const got = await downloadFile(link(bob), { fileId: file.id, path: target });
    expect(got.file).toEqual(file);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    const inMemory = await downloadFile(link(bob), { fileId: file.id });
    expect(inMemory.bytes!.equals(bytes)).toBe(true);

    const hits = await bob.request('search', { query: 'quarterly report' });
    expect(hits.hits.map((hit) => hit.message.id)).toEqual([sent.id]);
    const history = await bob.request('history', { conv: 'room' });
    expect(history.messages.at(-1)!.attachments).toEqual([file]);
  });

  it('stay free for the next send when a send carrying them is refused for its target', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path } = randomFile('notes', 1000);
    const file = await uploadFile(link(alice), { source: { path }, name: 'notes.txt' });
    const refused = alice.request('send', { to: { kind: 'dm', user: 'nobody' }, text: '', clientMsgId: 'lost', attachments: [{ fileId: file.id }] });
    expect(await codeOf(refused)).toBe(ErrorCode.UNKNOWN_USER);
    const sent = await alice.send({ kind: 'room' }, '', undefined, undefined, [{ fileId: file.id }]);
    expect(sent.attachments).toEqual([file]);
  });

  it('name the type from the content, not the name, and keep the sender’s image size and thumbnail', async () => {
    await room.start();
    const alice = await room.user('alice');
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const file = await uploadFile(link(alice), { source: { bytes: png }, name: 'notes.txt' });
    expect(file.type).toBe('image/png');
    const message = await alice.send({ kind: 'room' }, 'look', undefined, undefined, [
      { fileId: file.id, width: 1, height: 1, thumbnail: png.toString('base64') },
    ]);
    expect(message.attachments![0]).toMatchObject({ type: 'image/png', width: 1, height: 1, thumbnail: png.toString('base64') });
  });

  it('refuse a thumbnail that is not a PNG, JPEG or WebP image of at most 320×320 pixels (issue 33, item 8), sending nothing', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const file = await uploadFile(link(alice), { source: { bytes: randomBytes(100) }, name: 'photo.png' });
    // A PNG header declaring 16383×16383 pixels in 520 bytes: a page drawing it took over a gigabyte.
    const huge = Buffer.alloc(520);
    Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(huge);
    huge.writeUInt32BE(16383, 16);
    huge.writeUInt32BE(16383, 20);
    const wide = Buffer.from(huge);
    wide.writeUInt32BE(321, 16);
    wide.writeUInt32BE(1, 20);
    const refused = [huge, wide, Buffer.from('GIF89a\x01\x00\x01\x00'), Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), randomBytes(600)];
    for (const thumbnail of refused) {
      const error = await alice.request('send', {
        clientMsgId: randomBytes(8).toString('hex'),
        to: { kind: 'room' },
        text: 'look',
        attachments: [{ fileId: file.id, width: 16383, height: 16383, thumbnail: thumbnail.toString('base64') }],
      }).then(() => null, (failure: unknown) => failure);
      expect(error, thumbnail.subarray(0, 8).toString('hex')).toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringMatching(/thumbnail/) });
    }
    const square = Buffer.from(huge);
    square.writeUInt32BE(320, 16);
    square.writeUInt32BE(320, 20);
    const sent = await alice.send({ kind: 'room' }, 'look', undefined, undefined, [{ fileId: file.id, thumbnail: square.toString('base64') }]);
    const { messages } = await bob.request('history', { conv: 'room' });
    expect(messages.map((message) => message.id)).toEqual([sent.id]);
  });

  it('resume an upload cut at a random offset from what the host holds, and a download from what arrived', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path, bytes } = randomFile('video', 2_000_000);
    const cut = randomInt(1, bytes.length - 1);
    const uploadId = await cutUpload(alice, bytes, cut);
    const progress: TransferProgress[] = [];
    const file = await uploadFile(link(alice), { source: { path }, name: 'big.bin', uploadId, onProgress: (p) => progress.push(p) });
    expect(progress[0]!.bytes).toBe(cut);
    expect(file).toMatchObject({ id: uploadId, size: bytes.length, sha256: sha(bytes) });
    await alice.send({ kind: 'room' }, 'video', undefined, undefined, [{ fileId: file.id }]);

    const bob = await room.user('bob');
    const target = join(room.dir, 'video.bin');
    const half = randomInt(1, bytes.length - 1);
    writeFileSync(`${target}.part`, bytes.subarray(0, half));
    const downloaded: TransferProgress[] = [];
    await downloadFile(link(bob), { fileId: file.id, path: target, onProgress: (p) => downloaded.push(p) });
    expect(downloaded[0]!.bytes).toBe(half);
    expect(readFileSync(target).equals(bytes)).toBe(true);

    // A kept beginning that is not the file's: the whole is checked, refused and removed.
    const spoiled = join(room.dir, 'spoiled.bin');
    writeFileSync(`${spoiled}.part`, randomBytes(half));
    expect(await codeOf(downloadFile(link(bob), { fileId: file.id, path: spoiled }))).toBe(ErrorCode.HASH_MISMATCH);
    expect(existsSync(`${spoiled}.part`) || existsSync(spoiled)).toBe(false);
  });

  it('resume an upload after the host restarts in the middle of it', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path, bytes } = randomFile('restart', 1_000_000);
    const uploadId = await cutUpload(alice, bytes, 400_000);
    const transferLink = link(alice);
    await room.restart();
    const file = await uploadFile({ ...transferLink, port: room.port }, { source: { path }, name: 'big.bin', uploadId });
    expect(file).toMatchObject({ id: uploadId, sha256: sha(bytes) });
  });

  it('answer a resumed upload the host finished, whose `uploaded` frame the client never read, with that file', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path, bytes } = randomFile('finished', 300_000);
    const raw = await RawTransfer.open(room.port);
    const response = await raw.first({ type: 'upload', id: 1, token: link(alice).token, name: 'done.bin', size: bytes.length, sha256: sha(bytes) });
    const { uploadId } = (response as { result: { uploadId: string } }).result;
    raw.socket.write(bytes);
    await waitFor(() => raw.frames.length === 2, 'the host to finish the upload');
    raw.socket.destroy();
    await room.restart();
    const back = await room.user('alice');

    const file = await uploadFile(link(back), { source: { path }, name: 'done.bin', uploadId });
    expect(file).toMatchObject({ id: uploadId, size: bytes.length, sha256: sha(bytes) });
    await back.send({ kind: 'room' }, 'finished before', undefined, undefined, [{ fileId: file.id }]);
    // Once a message carries it, the upload is not answered again: it is not the sender's to attach any more.
    expect(await codeOf(uploadFile(link(back), { source: { path }, name: 'done.bin', uploadId }))).toBe(ErrorCode.UNKNOWN_FILE);
  });

  it('stop at once when cancelled while the host has not answered the handshake yet', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path } = randomFile('frozen', 1000);
    // A host that takes the TCP connection and then says nothing, as one frozen or overloaded.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const controller = new AbortController();
      const upload = uploadFile({ ...link(alice), port, connectTimeoutMs: 600_000 }, { source: { path }, name: 'frozen.bin', signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      expect(await codeOf(upload)).toBe('CANCELLED');
    } finally {
      silent.close();
    }
  });

  it('go on by themselves when the link drops during the transfer', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path, bytes } = randomFile('drop', 4_000_000);
    // A relay to the host that cuts its first link after 1 MB.
    let links = 0;
    const relay = createServer((inbound) => {
      links += 1;
      const outbound = connect(room.port, '127.0.0.1');
      let passed = 0;
      const cutAfter = links === 1 ? 1_000_000 : Infinity;
      inbound.on('data', (chunk: Buffer) => {
        passed += chunk.length;
        if (passed > cutAfter) {
          inbound.destroy();
          outbound.destroy();
        } else outbound.write(chunk);
      });
      outbound.pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as AddressInfo).port;
      const file = await uploadFile({ ...link(alice), port }, { source: { path }, name: 'drop.bin' });
      expect(links).toBeGreaterThan(1);
      expect(file.sha256).toBe(sha(bytes));
    } finally {
      relay.close();
    }
  });

  it('refuse bytes that do not match the SHA-256 announced and remove them', async () => {
    await room.start();
    const alice = await room.user('alice');
    const { path } = randomFile('liar', 100_000);
    const code = await codeOf(uploadFile(link(alice), { source: { path }, name: 'liar.bin', sha256: sha(Buffer.from('something else')) }));
    expect(code).toBe(ErrorCode.HASH_MISMATCH);
    expect(partials()).toEqual([]);
    expect(storedBlobs()).toEqual([]);
  });

  it('refuse bytes past the size announced, in a write after the last one too, and keep nothing', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bytes = randomBytes(100);
    const extra = randomBytes(1000);
    // A relay that holds what the client writes while asked to, then passes it on in one write:
    // the host reads both writes at once, before it could have kept the file.
    let held: Buffer[] | null = null;
    let release = (): void => undefined;
    const relay = createServer((inbound) => {
      const outbound = connect(room.port, '127.0.0.1');
      inbound.on('data', (chunk: Buffer) => (held ? held.push(chunk) : outbound.write(chunk)));
      outbound.pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      release = () => {
        outbound.write(Buffer.concat(held!));
        held = null;
      };
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const refusal = async (writes: Buffer[]): Promise<Record<string, unknown> | undefined> => {
      const raw = await RawTransfer.open((relay.address() as AddressInfo).port);
      await raw.first({ type: 'upload', id: 1, token: link(alice).token, name: 'over.bin', size: bytes.length, sha256: sha(bytes) });
      held = [];
      for (const write of writes) raw.socket.write(write);
      const plain = writes.reduce((sum, write) => sum + write.length, 0);
      // Encrypted, both writes are longer than their plain bytes; the first alone is far shorter.
      await waitFor(() => held!.reduce((sum, chunk) => sum + chunk.length, 0) >= plain, 'both writes at the relay');
      release();
      await waitFor(() => raw.closed, 'the host to end the upload');
      return raw.frames[1];
    };
    try {
      const refused = { type: 'bye', error: { code: ErrorCode.BAD_REQUEST } };
      expect(await refusal([bytes, extra])).toMatchObject(refused);
      expect(await refusal([bytes.subarray(0, 60), Buffer.concat([bytes.subarray(60), extra])])).toMatchObject(refused);
    } finally {
      relay.close();
    }
    await waitFor(() => partials().length === 0, 'the partial files to go');
    expect(storedBlobs()).toEqual([]);
  });

  it('are fetched only by those who may read the conversation: not a non-member, not a removed member, not a guesser', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const carol = await room.user('carol');
    const { group } = await alice.request('groupCreate', { name: 'Team' });
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const { path, bytes } = randomFile('secret', 10_000);
    const file = await uploadFile(link(alice), { source: { path }, name: 'secret.txt' });
    expect(await codeOf(downloadFile(link(bob), { fileId: file.id }))).toBe(ErrorCode.UNKNOWN_FILE);
    // Only its uploader may attach it.
    expect(await codeOf(bob.send({ kind: 'room' }, 'mine now', undefined, undefined, [{ fileId: file.id }]))).toBe(ErrorCode.UNKNOWN_FILE);
    await alice.send({ kind: 'group', groupId: group.id }, 'for the team', undefined, undefined, [{ fileId: file.id }]);
    // Once sent, it is not sent again.
    expect(await codeOf(alice.send({ kind: 'room' }, 'again', undefined, undefined, [{ fileId: file.id }]))).toBe(ErrorCode.UNKNOWN_FILE);

    expect((await downloadFile(link(bob), { fileId: file.id })).bytes!.equals(bytes)).toBe(true);
    expect(await codeOf(downloadFile(link(carol), { fileId: file.id }))).toBe(ErrorCode.UNKNOWN_FILE);
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    expect(await codeOf(downloadFile(link(bob), { fileId: file.id }))).toBe(ErrorCode.UNKNOWN_FILE);
    expect(await codeOf(downloadFile(link(carol), { fileId: randomBytes(16).toString('base64url') }))).toBe(ErrorCode.UNKNOWN_FILE);
    expect(await codeOf(downloadFile({ ...link(carol), token: 'x'.repeat(43) }, { fileId: file.id }))).toBe(ErrorCode.BAD_TOKEN);
  });

  it('keep to the host’s limits, refused before any byte is sent, and hello announces them', async () => {
    await room.start({ files: { limits: { maxFileBytes: 1024 * 1024, maxFileStorageBytes: 3 * 1024 * 1024, maxFileBytesPerDay: 5 * 1024 * 1024 } } });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    expect(alice.session!.hello.limits).toMatchObject({
      maxFileBytes: 1024 * 1024,
      maxFileStorageBytes: 3 * 1024 * 1024,
      maxFileBytesPerDay: 5 * 1024 * 1024,
    });
    const big = randomFile('big', 1024 * 1024 + 1);
    const raw = await RawTransfer.open(room.port);
    const refused = await raw.first({ type: 'upload', id: 7, token: link(alice).token, name: 'big', size: big.bytes.length, sha256: sha(big.bytes) });
    expect(refused).toEqual({ type: 'res', id: 7, ok: false, error: { code: ErrorCode.FILE_TOO_LARGE, message: 'too large: the host allows 1 MB' } });
    expect(partials()).toEqual([]);

    // Storage for all: three files of 1 MB fill it.
    for (let i = 0; i < 3; i++) await uploadFile(link(i === 2 ? bob : alice), { source: { path: randomFile(`f${i}`, 1024 * 1024).path }, name: `f${i}` });
    expect(await codeOf(uploadFile(link(bob), { source: { bytes: randomBytes(10) }, name: 'one more' }))).toBe(ErrorCode.STORAGE_FULL);
  });

  it('end a download under way when its reader leaves the conversation: removed from the group, or the group deleted', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const large = randomBytes(16_000_000);
    const { group } = await alice.request('groupCreate', { name: 'Team' });
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const file = await uploadFile(link(alice), { source: { bytes: large }, name: 'plans.bin' });
    await alice.send({ kind: 'group', groupId: group.id }, 'plans', undefined, undefined, [{ fileId: file.id }]);
    const bobs = await stalledDownload(bob, file.id);
    const alices = await stalledDownload(alice, file.id);
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    expect(await bobs.resume()).toBeLessThan(large.length);
    await alice.request('groupDelete', { groupId: group.id });
    expect(await alices.resume()).toBeLessThan(large.length);
  });

  it('keep to the transfers one user may have open at once; a closed one frees its place', async () => {
    await room.start({ files: { limits: { maxTransfersPerUser: 2 } } });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    expect(alice.session!.hello.limits).toMatchObject({ maxTransfersPerUser: 2 });
    const bytes = randomBytes(1000);
    const opener = (client: ChatClient, id: number) => ({ type: 'upload', id, token: link(client).token, name: `f${id}`, size: bytes.length, sha256: sha(bytes) });
    const open: RawTransfer[] = [];
    for (const id of [1, 2]) {
      const raw = await RawTransfer.open(room.port);
      expect(await raw.first(opener(alice, id))).toMatchObject({ ok: true });
      open.push(raw);
    }
    const third = await RawTransfer.open(room.port);
    expect(await third.first(opener(alice, 3))).toMatchObject({
      ok: false,
      error: { code: ErrorCode.RATE_LIMITED, message: 'you have 2 transfers open, as many as this host allows at once', retryAfterMs: 1000 },
    });
    // Another user is not held up by it.
    expect((await downloadFile(link(bob), { fileId: (await uploadFile(link(bob), { source: { bytes }, name: 'b' })).id })).bytes!.equals(bytes)).toBe(true);
    open[0]!.socket.destroy();
    await waitFor(() => open[0]!.closed);
    // The client library waits as told and gets the freed place.
    expect((await uploadFile(link(alice), { source: { bytes }, name: 'after' })).sha256).toBe(sha(bytes));
  });

  it('count each user’s bytes per day', async () => {
    await room.start({ files: { limits: { maxFileBytesPerDay: 150_000 } } });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    await uploadFile(link(alice), { source: { bytes: randomBytes(100_000) }, name: 'a' });
    let error: ClientError | null = null;
    await uploadFile(link(alice), { source: { bytes: randomBytes(100_000) }, name: 'b' }).catch((e: ClientError) => (error = e));
    expect(error).toMatchObject({ code: ErrorCode.STORAGE_FULL });
    expect(error!.retryAfterMs).toBeGreaterThan(0);
    await uploadFile(link(bob), { source: { bytes: randomBytes(100_000) }, name: 'b' });
  });

  it('are stored once per content, and removed with the last message that carries them', async () => {
    await room.start({ files: FAST_SWEEP });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const bytes = randomBytes(50_000);
    const groups = [];
    for (const name of ['One', 'Two']) {
      const { group } = await alice.request('groupCreate', { name });
      await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
      groups.push(group.id);
    }
    const first = await uploadFile(link(alice), { source: { bytes }, name: 'same.bin' });
    const second = await uploadFile(link(bob), { source: { bytes }, name: 'copy of same.bin' });
    expect(first.id).not.toBe(second.id);
    expect(storedBlobs()).toEqual([sha(bytes)]);
    await alice.send({ kind: 'group', groupId: groups[0]! }, 'one', undefined, undefined, [{ fileId: first.id }]);
    await bob.send({ kind: 'group', groupId: groups[1]! }, 'two', undefined, undefined, [{ fileId: second.id }]);

    // Deleting a group deletes its messages; the other group's message still has the content.
    await alice.request('groupDelete', { groupId: groups[0]! });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(storedBlobs()).toEqual([sha(bytes)]);
    expect(await codeOf(downloadFile(link(bob), { fileId: first.id }))).toBe(ErrorCode.UNKNOWN_FILE);
    expect((await downloadFile(link(bob), { fileId: second.id })).bytes!.equals(bytes)).toBe(true);

    await alice.request('groupDelete', { groupId: groups[1]! });
    await waitFor(() => storedBlobs().length === 0, 'the content to go with its last message');
  });

  it('never sent are forgotten after their time, content and all', async () => {
    await room.start({ files: { ...FAST_SWEEP, unsentTtlMs: 300 } });
    const alice = await room.user('alice');
    const file = await uploadFile(link(alice), { source: { bytes: randomBytes(1000) }, name: 'draft' });
    expect(storedBlobs()).toHaveLength(1);
    await waitFor(() => storedBlobs().length === 0, 'the unsent file to go');
    expect(await codeOf(alice.send({ kind: 'room' }, 'late', undefined, undefined, [{ fileId: file.id }]))).toBe(ErrorCode.UNKNOWN_FILE);
  });

  it('refuse a client that sends bytes before the response, and bad opening frames', async () => {
    await room.start();
    const alice = await room.user('alice');
    const raw = await RawTransfer.open(room.port);
    const bytes = randomBytes(100);
    raw.socket.write(Buffer.concat([encodeFrame({ type: 'upload', id: 1, token: link(alice).token, name: 'x', size: 100, sha256: sha(bytes) }), bytes]));
    await waitFor(() => raw.frames.length > 0);
    expect(raw.frames[0]).toMatchObject({ id: 1, ok: false, error: { code: ErrorCode.BAD_REQUEST } });
    await waitFor(() => raw.closed);

    const other = await RawTransfer.open(room.port);
    expect(await other.first({ type: 'download', id: 2, token: link(alice).token, fileId: 'nope', offset: 0 })).toMatchObject({
      id: 2,
      error: { code: ErrorCode.BAD_REQUEST },
    });
    const named = await RawTransfer.open(room.port);
    expect(
      await named.first({ type: 'upload', id: 3, token: link(alice).token, name: 'invoice\u202Efdp.exe', size: 1, sha256: sha(Buffer.from('x')) }),
    ).toMatchObject({ id: 3, error: { code: ErrorCode.BAD_REQUEST, message: 'a file name cannot contain control, line separator or invisible characters' } });
  });

  it('refuse a name no file system keeps: over 255 bytes in UTF-8, or with a line or paragraph separator; take one of 255 bytes', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bytes = Buffer.from('x');
    const opener = (id: number, name: string) => ({ type: 'upload', id, token: link(alice).token, name, size: 1, sha256: sha(bytes) });
    const refusals = [
      // 64 characters, 256 bytes: within a character limit, past every file system's.
      ['😀'.repeat(64), 'a file name has at most 255 bytes in UTF-8'],
      [`${'a'.repeat(252)}.txt`, 'a file name has at most 255 bytes in UTF-8'],
      ['line\u2028sep.txt', 'a file name cannot contain control, line separator or invisible characters'],
      ['para\u2029sep.txt', 'a file name cannot contain control, line separator or invisible characters'],
    ];
    for (const [i, [name, message]] of refusals.entries()) {
      const raw = await RawTransfer.open(room.port);
      expect(await raw.first(opener(i + 1, name!))).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_REQUEST, message } });
      await waitFor(() => raw.closed, 'the refused connection to close');
    }
    expect(partials()).toEqual([]);
    const longest = `${'😀'.repeat(63)}abc`;
    const file = await uploadFile(link(alice), { source: { bytes }, name: longest });
    expect(file.name).toBe(longest);
  });

  it('end with their user: a kick cuts an upload with its reason, a ban a download, a password change the other devices’ only', async () => {
    await room.start();
    const alice = await room.user('alice');
    const mallory = await room.user('mallory');
    const bytes = randomBytes(2_000_000);
    const opener = { type: 'upload', token: link(mallory).token, name: 'loot.bin', size: bytes.length, sha256: sha(bytes) };
    const upload = await RawTransfer.open(room.port);
    expect(await upload.first({ ...opener, id: 1 })).toMatchObject({ ok: true });
    upload.socket.write(bytes.subarray(0, 100_000));
    await room.host.server.admin.kick('mallory');
    await waitFor(() => upload.closed, 'the kicked user’s upload to end');
    expect(upload.frames.at(-1)).toMatchObject({ type: 'bye', error: { code: ErrorCode.KICKED } });

    const large = randomBytes(16_000_000);
    const file = await uploadFile(link(alice), { source: { bytes: large }, name: 'public.bin' });
    await alice.send({ kind: 'room' }, 'for all', undefined, undefined, [{ fileId: file.id }]);
    const again = await room.user('mallory');
    const download = await stalledDownload(again, file.id);
    await room.host.server.admin.ban({ name: 'mallory' });
    expect(await download.resume()).toBeLessThan(large.length);

    // alice changes her password on one device: her other device's transfer ends, this one's goes on.
    const laptop = await room.user('alice');
    const other = await RawTransfer.open(room.port);
    expect(await other.first({ ...opener, id: 3, token: link(laptop).token, name: 'other.bin' })).toMatchObject({ ok: true });
    const mine = uploadFile(link(alice), { source: { bytes }, name: 'mine.bin' });
    await alice.request('changePassword', { current: 'alice-secret', password: 'a new long password' });
    await waitFor(() => other.closed, 'the other device’s upload to end');
    expect(other.frames.at(-1)).toMatchObject({ type: 'bye', error: { code: ErrorCode.PASSWORD_CHANGED } });
    expect((await mine).sha256).toBe(sha(bytes));
  });

  it('leave chat alone during a large upload: a message sent meanwhile arrives', async () => {
    await room.start();
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const { path } = randomFile('large', 20_000_000);
    let during: Promise<ChatMessage> | null = null;
    await uploadFile(link(alice), {
      source: { path },
      name: 'large.bin',
      // The first report comes when the host has accepted the upload (0 bytes): on a fast machine the
      // next one may be the last, so the message goes out at the first report before the end.
      onProgress: (p) => {
        if (during || p.bytes === p.total) return;
        during = nextEvent(bob, 'message').then(([m]) => m);
        void alice.send({ kind: 'room' }, 'still here');
      },
    });
    expect((await during!).text).toBe('still here');
  });
});

describe('a full disk during an upload', () => {
  it('answers STORAGE_FULL, removes the partial file and leaves chat working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanchat-files-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      rmdirSync(dir);
      console.warn(`full-disk upload test skipped: cannot mount a tmpfs (${(error as Error).message.split('\n')[0]})`);
      return;
    }
    const small = new Room(join(dir, 'data'));
    try {
      await small.start();
      const alice = await small.user('alice');
      const bob = await small.user('bob');
      const bytes = randomBytes(6 * 1024 * 1024);
      const error = await uploadFile(alice.transferLink()!, { source: { bytes }, name: 'too much' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.STORAGE_FULL });
      expect(readdirSync(join(dir, 'data', 'files', 'partial'))).toEqual([]);
      const arrived = nextEvent(bob, 'message');
      await alice.send({ kind: 'room' }, 'still fine');
      expect((await arrived)[0].text).toBe('still fine');
    } finally {
      await small.cleanup();
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
  });
});

describe('a message deleted for everyone', () => {
  const room = useRoom({ start: { files: FAST_SWEEP } });
  it('takes its files with it, from the disk too', async () => {
    const alice = await room.user('alice');
    const file = await uploadFile(alice.transferLink()!, { source: { bytes: randomBytes(5000) }, name: 'oops.txt' });
    const sent = await alice.send({ kind: 'room' }, 'wrong file', undefined, undefined, [{ fileId: file.id }]);
    const { message } = await alice.request('delete', { messageId: sent.id });
    expect(message.attachments).toBeUndefined();
    await waitFor(() => storedBlobs(room.dir).length === 0, 'the content to go');
    expect(await codeOf(downloadFile(alice.transferLink()!, { fileId: file.id }))).toBe(ErrorCode.UNKNOWN_FILE);
  });

  it('ends the downloads of its files under way (issue 33, item 8); the files of other messages go on', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const large = randomBytes(16_000_000);
    const deleted = await uploadFile(alice.transferLink()!, { source: { bytes: large }, name: 'oops.bin' });
    const kept = await uploadFile(alice.transferLink()!, { source: { bytes: randomBytes(16_000_001) }, name: 'fine.bin' });
    const sent = await alice.send({ kind: 'room' }, 'wrong file', undefined, undefined, [{ fileId: deleted.id }]);
    await alice.send({ kind: 'room' }, 'right file', undefined, undefined, [{ fileId: kept.id }]);
    const cut = await stalledDownload(bob, deleted.id, room.port);
    const other = await stalledDownload(bob, kept.id, room.port);
    await alice.request('delete', { messageId: sent.id });
    expect(await cut.resume()).toBeLessThan(large.length);
    expect(await other.resume()).toBeGreaterThan(16_000_001);
    expect(await codeOf(downloadFile(bob.transferLink()!, { fileId: deleted.id }))).toBe(ErrorCode.UNKNOWN_FILE);
  });
});

describe('unfinished uploads (issue 33, item 4)', () => {
  const MB = 1024 * 1024;

  /** Opens an upload of `size` bytes by hand and drops its link without sending a byte; returns the host's answer. */
  async function reserve(client: ChatClient, size: number, name = 'held.bin', more: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const raw = await RawTransfer.open(room.port);
    const response = await raw.first({ type: 'upload', id: 1, token: link(client).token, name, size, sha256: sha(Buffer.from(name)), ...more });
    raw.socket.destroy();
    await waitFor(() => raw.closed);
    return response;
  }

  /** Cancels an upload on a transfer connection of its own; returns the host's answer. */
  async function cancel(client: ChatClient, uploadId: string): Promise<Record<string, unknown>> {
    const raw = await RawTransfer.open(room.port);
    const response = await raw.first({ type: 'cancelUpload', id: 4, token: link(client).token, uploadId });
    await waitFor(() => raw.closed, 'the host to close the cancel’s connection');
    return response;
  }

  it('reserve the room’s storage only for the bytes that arrived: accounts that send none cannot fill it for the others', async () => {
    await room.start({ files: { limits: { maxFileBytes: MB, maxFileStorageBytes: 3 * MB } } });
    // Three accounts declare uploads as large as the whole store and send nothing.
    const squat = randomBytes(MB);
    let squatId = '';
    for (const name of ['eve', 'mallory', 'trudy']) {
      const squatter = await room.user(name);
      const response = (await reserve(squatter, MB, 'squat.bin', { sha256: sha(squat) })) as { ok: boolean; result: { uploadId: string } };
      expect(response.ok).toBe(true);
      squatId = response.result.uploadId;
    }
    const bob = await room.user('bob');
    const bytes = randomBytes(MB);
    expect((await uploadFile(link(bob), { source: { bytes }, name: 'needed.bin' })).sha256).toBe(sha(bytes));
    // What did arrive counts: bob's file and 2 MB held by an unfinished upload fill it.
    const alice = await room.user('alice');
    const held = randomBytes(MB);
    await cutUpload(alice, held, MB - 1);
    await cutUpload(alice, randomBytes(MB), MB - 1, 'second.bin');
    expect(await codeOf(uploadFile(link(bob), { source: { bytes: randomBytes(10) }, name: 'one more' }))).toBe(ErrorCode.STORAGE_FULL);

    // A reservation sent in full after the store filled is refused at its end, and removed.
    const late = await RawTransfer.open(room.port);
    const trudy = await room.user('trudy');
    await late.first({ type: 'upload', id: 1, token: link(trudy).token, name: 'squat.bin', size: MB, sha256: sha(squat), uploadId: squatId });
    late.socket.write(squat);
    await waitFor(() => late.closed, 'the late upload to end');
    expect(late.frames[1]).toMatchObject({ type: 'bye', error: { code: ErrorCode.STORAGE_FULL } });
    await waitFor(() => !partials().includes(squatId), 'its partial file to go');
    expect(storedBlobs()).toEqual([sha(bytes)]);
  });

  it('are bounded per user in number and declared bytes, with LIMIT_REACHED naming the limit; nothing else changes', async () => {
    await room.start({ files: { limits: { maxUnfinishedUploadsPerUser: 3, maxUnfinishedBytesPerUser: 3500 } } });
    const alice = await room.user('alice');
    expect(alice.session!.hello.limits).toMatchObject({ maxUnfinishedUploadsPerUser: 3, maxUnfinishedBytesPerUser: 3500 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = (await reserve(alice, 1000, `f${i}`)) as { ok: boolean; result: { uploadId: string } };
      expect(response.ok).toBe(true);
      ids.push(response.result.uploadId);
    }
    const before = partials().sort();
    expect(await reserve(alice, 100)).toEqual({
      type: 'res',
      id: 1,
      ok: false,
      error: { code: ErrorCode.LIMIT_REACHED, message: 'you have 3 unfinished uploads, as many as this host allows at once: finish or cancel one' },
    });
    expect(partials().sort()).toEqual(before);
    // Another user is not held up by it, and alice's uploads are still there to resume.
    const bob = await room.user('bob');
    await uploadFile(link(bob), { source: { bytes: randomBytes(1000) }, name: 'b' });
    expect(await reserve(alice, 1000, 'f0', { uploadId: ids[0] })).toMatchObject({ ok: true, result: { uploadId: ids[0], offset: 0 } });
    expect(partials().sort()).toEqual(before);

    // One cancelled frees its place; the bytes declared are bounded too.
    expect(await cancel(alice, ids[0]!)).toEqual({ type: 'res', id: 4, ok: true, result: {} });
    expect(await reserve(alice, 1600)).toEqual({
      type: 'res',
      id: 1,
      ok: false,
      error: {
        code: ErrorCode.LIMIT_REACHED,
        message: 'your unfinished uploads would hold more than 3.4 KB, as much as this host keeps for one user at once: finish or cancel one',
      },
    });
    expect(await reserve(alice, 1500)).toMatchObject({ ok: true });
  });

  it('expire when no bytes came for a while, partial file and all; one receiving keeps its own', async () => {
    await room.start({ files: { ...FAST_SWEEP, uploadIdleMs: 300, limits: { maxUnfinishedUploadsPerUser: 1 } } });
    const alice = await room.user('alice');
    const bytes = randomBytes(100_000);
    const uploadId = await cutUpload(alice, bytes, 50_000);
    expect(partials()).toEqual([uploadId]);
    await waitFor(() => partials().length === 0, 'the idle upload to expire');
    const raw = await RawTransfer.open(room.port);
    expect(await raw.first({ type: 'upload', id: 1, token: link(alice).token, name: 'big.bin', size: bytes.length, sha256: sha(bytes), uploadId })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.UNKNOWN_FILE },
    });

    // Its place is free.
    const again = randomFile('again', 100_000);
    expect((await uploadFile(link(alice), { source: { path: again.path }, name: 'big.bin' })).sha256).toBe(sha(again.bytes));

    // An upload receiving on its connection outlives the idle time: its half arrives, another upload of bob's
    // expires (a sweep came after the idle time), then the rest arrives and the file is kept.
    const receiving = await RawTransfer.open(room.port);
    const slow = randomBytes(100_000);
    await receiving.first({ type: 'upload', id: 1, token: link(alice).token, name: 'slow.bin', size: slow.length, sha256: sha(slow) });
    await new Promise<void>((resolve) => receiving.socket.write(slow.subarray(0, 50_000), () => resolve()));
    const bob = await room.user('bob');
    const idle = await cutUpload(bob, randomBytes(1000), 10, 'idle.bin');
    await waitFor(() => !partials().includes(idle), 'bob’s idle upload to expire');
    receiving.socket.write(slow.subarray(50_000));
    await waitFor(() => receiving.frames.length === 2, 'the slow upload to finish');
    expect(receiving.frames[1]).toMatchObject({ type: 'uploaded', file: { sha256: sha(slow) } });
  });

  it('are cancelled by their uploader: the reservation and the partial file go, a link still sending is told', async () => {
    await room.start({ files: { limits: { maxUnfinishedUploadsPerUser: 1 } } });
    const alice = await room.user('alice');
    const mallory = await room.user('mallory');
    const bytes = randomBytes(200_000);
    const uploadId = await cutUpload(alice, bytes, 100_000);
    // Not someone else's to cancel.
    expect(await cancel(mallory, uploadId)).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_FILE } });
    expect(partials()).toEqual([uploadId]);
    expect(await cancel(alice, uploadId)).toEqual({ type: 'res', id: 4, ok: true, result: {} });
    expect(partials()).toEqual([]);
    expect(await codeOf(uploadFile(link(alice), { source: { bytes }, name: 'big.bin', uploadId }))).toBe(ErrorCode.UNKNOWN_FILE);
    // Its place is free.
    expect((await uploadFile(link(alice), { source: { bytes }, name: 'big.bin' })).sha256).toBe(sha(bytes));

    // One still receiving: its link gets a `bye`, then its partial file goes.
    const other = randomBytes(200_000);
    const sending = await RawTransfer.open(room.port);
    const opened = (await sending.first({ type: 'upload', id: 1, token: link(alice).token, name: 'o.bin', size: other.length, sha256: sha(other) })) as {
      result: { uploadId: string };
    };
    await new Promise<void>((resolve) => sending.socket.write(other.subarray(0, 1000), () => resolve()));
    expect(await cancel(alice, opened.result.uploadId)).toMatchObject({ ok: true });
    await waitFor(() => sending.closed, 'the cancelled upload’s link to end');
    expect(sending.frames.at(-1)).toMatchObject({ type: 'bye', error: { code: ErrorCode.UNKNOWN_FILE, message: 'the upload was cancelled' } });
    expect(partials()).toEqual([]);
    expect(await cancel(alice, opened.result.uploadId)).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_FILE } });
  });
});
