/** Files through the App API when something is off: a name the host would refuse, the host gone mid-transfer. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { AppEvent, TransferEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { AppCore } from './app.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(): { core: AppCore; dir: string; events: AppEvent[] } {
  const dir = tempDir('lanchat-files-trouble-');
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
  const sent = await core.sendFiles({ kind: 'room' }, [{ path }, { name: 'bell\u0007.txt', data: Buffer.from('ding').toString('base64') }], 'names');
  expect(sent.ok).toBe(true);

  let message: ChatMessage | undefined;
  await waitFor(() => (message = messageOf(events, 'names')) !== undefined, 10_000, 'the message');
  expect(message!.attachments!.map((file) => file.name)).toEqual(['invoice_fdp.exe', 'bell_.txt']);
  const transfers = events.filter((e): e is TransferEvent => e.type === 'transfer');
  // The two uploads run side by side: either may finish first.
  expect(transfers.filter((e) => e.status === 'done').map((e) => e.name).sort()).toEqual(['bell_.txt', 'invoice_fdp.exe']);
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
  await waitFor(() => (message = messageOf(bob.events, 'minutes')) !== undefined, 10_000, 'the message');
  expect((await alice.core.stopHosting()).ok).toBe(true);

  const download = bob.core.downloadFile(message!.attachments![0]!.id, 'minutes.txt', undefined);
  const downloads = (): TransferEvent[] => bob.events.filter((e): e is TransferEvent => e.type === 'transfer' && e.direction === 'download');
  await waitFor(() => downloads().some((e) => e.status === 'running' && e.waiting === true), 10_000, 'the download to wait for the host');
  expect(downloads().some((e) => e.status === 'failed')).toBe(false);

  expect((await alice.core.host(room)).ok).toBe(true);
  const saved = await download;
  if (!saved.ok) throw new Error(saved.error.message);
  expect(readFileSync(saved.value.path).equals(bytes)).toBe(true);
  expect(downloads().at(-1)).toMatchObject({ status: 'done', fileId: message!.attachments![0]!.id });
});
