/** A host's per-user daily quota, over real sockets: the sender hears why and until when; others go on. */
import { afterEach, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { RawPeer, removeDir, startTestHost, tempDir } from '../testing/harness.js';
import type { Host } from './host.js';

let dir: string;
let host: Host;
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy();
  await host.stop();
  removeDir(dir);
});

async function user(name: string): Promise<RawPeer> {
  const peer = await RawPeer.open(host.address.port);
  peers.push(peer);
  expect(await peer.login(name)).toMatchObject({ ok: true });
  return peer;
}

it('answers a send over the sender’s daily quota with STORAGE_FULL until the day ends, and stores nothing of it', async () => {
  dir = tempDir();
  host = await startTestHost(dir, { maxUserBytesPerDay: 20 });
  const [ali, bob] = [await user('ali'), await user('bob')];
  const send = (peer: RawPeer, clientMsgId: string, text: string) => peer.request('send', { clientMsgId, to: { kind: 'room' }, text });

  expect(await send(ali, 'a1', 'x'.repeat(15))).toMatchObject({ ok: true });
  const refused = await send(ali, 'a2', 'y'.repeat(10));
  expect(refused).toMatchObject({ ok: false, error: { code: ErrorCode.STORAGE_FULL, message: expect.stringContaining('today') } });
  const retryAfterMs = (refused as { error: { retryAfterMs: number } }).error.retryAfterMs;
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(retryAfterMs).toBeLessThanOrEqual(86_400_000);
  expect(await send(bob, 'b1', 'y'.repeat(10))).toMatchObject({ ok: true });
  expect(await send(ali, 'a1', 'x'.repeat(15))).toMatchObject({ ok: true, result: { duplicate: true } });
  const history = await bob.request('history', { conv: 'room' });
  expect(history).toMatchObject({ ok: true });
  expect((history as { result: { messages: { text: string }[] } }).result.messages.map((m) => m.text)).toEqual(['x'.repeat(15), 'y'.repeat(10)]);
});
