import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { filesHolding, filesUnder, waitFor, unwrap } from '../testing/harness.js';
import { e2eeCore, hostedRoom } from './testing.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const newCore = () => e2eeCore(cleanups, 'lanchat-e2ee-files-');

/** The message event with a file of that name, once it came. */
async function withFile(events: AppEvent[], name: string): Promise<ChatMessage> {
  let found: ChatMessage | undefined;
  await waitFor(
    () => {
      for (const event of events) if (event.type === 'message' && event.message.attachments?.some((file) => file.name === name)) found = event.message;
      return found !== undefined;
    },
    30_000,
    `a message with ${name}`,
  );
  return found!;
}


/** Slices of the content a search for it looks for: any one found would be the content in plain. */
const slices = (content: Buffer): Buffer[] => [0, 1000, 50_000, content.length - 64].map((start) => content.subarray(start, start + 64));

describe('files in an end-to-end encrypted conversation', () => {
  it('reach the other app with their exact bytes and name, while the host holds neither; deleting for everyone removes the ciphertext', async () => {
    const alice = newCore();
    const bob = newCore();
    await hostedRoom(alice.core, bob.core);
    const hostDir = join(alice.dir, 'host');

    // A plain file in the room first: the host holds it, which shows that the byte search below finds what is there.
    const roomContent = Buffer.concat([Buffer.from('room-file-content-the-host-may-read '), randomBytes(4000)]);
    unwrap(await alice.core.sendFiles({ kind: 'room' }, [{ name: 'room-plan-visible.txt', data: roomContent.toString('base64') }], ''));
    await withFile(bob.events, 'room-plan-visible.txt');
    await waitFor(() => filesHolding(hostDir, roomContent.subarray(100, 164)).length > 0 && filesHolding(hostDir, Buffer.from('room-plan-visible.txt')).length > 0, 30_000, 'the room file on the host');

    // The encrypted DM: a file of 300 kB, with a name and caption nobody but bob may read.
    const content = Buffer.concat([Buffer.from('%PDF-1.7 Gizli rapor '), randomBytes(300_000)]);
    const name = 'Gizli-İzmir-raporu-7f3c.pdf';
    unwrap(await alice.core.sendFiles({ kind: 'dm', user: 'bob' }, [{ name, data: content.toString('base64') }], 'secret-caption-9b1d'));
    const message = await withFile(bob.events, name);
    expect(message).toMatchObject({ from: 'alice', to: 'bob', text: 'secret-caption-9b1d', e2ee: true });
    const [file] = message.attachments!;
    expect(file).toMatchObject({ name, size: content.length, type: 'application/pdf' });
    const saved = unwrap(await bob.core.downloadFile(file!.id, file!.name));
    expect(readFileSync(saved.path).equals(content)).toBe(true);
    // The sender's own copy of the message says the same, from its own device history.
    const page = unwrap(await alice.core.history(message.conv));
    expect(page.messages.find((mine) => mine.id === message.id)?.attachments?.[0]).toMatchObject({ id: file!.id, name, size: content.length });
    // Found by part of its name on the device, as the host finds a plain file's (Turkish İ folded as there).
    expect(unwrap(await bob.core.search('izmir-rap')).hits.map((hit) => hit.message.id)).toEqual([message.id]);

    for (const needle of [Buffer.from(name), Buffer.from('Gizli-İzmir'), Buffer.from('secret-caption-9b1d'), ...slices(content)]) {
      expect(filesHolding(hostDir, needle), needle.subarray(0, 24).toString('hex')).toEqual([]);
    }
    const stored = filesUnder(join(hostDir, 'files')).filter((entry) => entry.bytes.length >= content.length);
    expect(stored.length).toBe(1);

    // Deleted for everyone: the ciphertext leaves the host's file store, and it can no longer be downloaded.
    unwrap(await alice.core.deleteMessage(message.id));
    await waitFor(() => filesUnder(join(hostDir, 'files')).every((entry) => entry.bytes.length < content.length), 30_000, 'the ciphertext removed');
    const again = await bob.core.downloadFile(file!.id, file!.name, join(bob.dir, 'again.pdf'));
    expect(again.ok).toBe(false);
  });
});
