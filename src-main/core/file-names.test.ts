/** A file whose name the host would refuse is sent under the name the host keeps (src-shared/file-names.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { AppEvent, TransferEvent } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { AppCore } from './app.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('sends files named with a bidi override or a control character under fitted names, not refused', async () => {
  const dir = tempDir('lanchat-file-names-');
  const core = new AppCore({ profileDir: dir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => removeDir(dir), () => core.shutdown());
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  const hosted = await core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' });
  expect(hosted.ok).toBe(true);

  const path = join(dir, 'invoice\u202Efdp.exe');
  writeFileSync(path, 'MZ');
  const sent = await core.sendFiles({ kind: 'room' }, [{ path }, { name: 'bell\u0007.txt', data: Buffer.from('ding').toString('base64') }], 'names');
  expect(sent.ok).toBe(true);

  let message: ChatMessage | undefined;
  await waitFor(() => (message = events.flatMap((e) => (e.type === 'message' && e.message.text === 'names' ? [e.message] : []))[0]) !== undefined, 10_000, 'the message');
  expect(message!.attachments!.map((file) => file.name)).toEqual(['invoice_fdp.exe', 'bell_.txt']);
  const transfers = events.filter((e): e is TransferEvent => e.type === 'transfer');
  expect(transfers.filter((e) => e.status === 'done').map((e) => e.name)).toEqual(['invoice_fdp.exe', 'bell_.txt']);
  expect(transfers.some((e) => e.status === 'failed')).toBe(false);
});
