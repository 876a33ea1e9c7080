/**
 * The app's outbox across a restart of the app (issue 32, item 3): what the user sent and the host
 * did not store is kept in the profile (outbox.json) and sent again, under the same client id, by the
 * next start, so it is stored once, also when the host had stored it but its answer never came.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';
import { startResumingApp } from './testing.js';

const room = useRoom();
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function profile(): string {
  const dir = tempDir('lanchat-outbox-');
  cleanups.push(() => removeDir(dir));
  return dir;
}

/** The app as a shell runs it (rejoining at start); `stop()` is quitting it. */
function startApp(profileDir: string) {
  const app = startResumingApp(profileDir, cleanups, { minMs: 50, maxMs: 200 });
  const outbox = (clientMsgId: string) => app.events.flatMap((e) => (e.type === 'outbox' && e.clientMsgId === clientMsgId ? [e] : []));
  return { ...app, outbox };
}

/** The room's messages of that text, as the host stored them. */
async function stored(reader: ChatClient, text: string): Promise<ChatMessage[]> {
  const page = await reader.request('history', { conv: 'room', limit: 100 });
  return page.messages.filter((message) => message.text === text);
}

function savedOutbox(profileDir: string): string {
  const file = join(profileDir, 'outbox.json');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The room on a port of its own, bob's app in it, then the host stopped: bob's app reconnecting. */
async function hostDownUnderBob() {
  const port = await freePort();
  await room.start({ port });
  const bobDir = profile();
  const bob = startApp(bobDir);
  await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' });
  await room.stop();
  await bob.untilStatus('reconnecting', 10_000);
  return { port, bobDir, bob };
}

/**
 * The room on a port of its own behind a relay (whose links fail while the host is down, as the port's
 * would), and what carol receives of that text.
 */
async function relayedRoom(text: string) {
  const port = await freePort();
  await room.start({ port });
  const proxy = await LinkProxy.start(await freePort(), () => port);
  cleanups.push(() => proxy.close());
  const carol = await room.user('carol');
  const seen: ChatMessage[] = [];
  carol.on('message', (message) => {
    if (message.text === text) seen.push(message);
  });
  return { port, proxy, seen };
}

describe('the outbox across a restart of the app', () => {
  it('keeps a message queued while the host is down, shows it as sending at the next start, and stores it once when the host is back', async () => {
    const { port, bobDir, bob } = await hostDownUnderBob();
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'room' }, 'written while the host was down');
    await bob.stop();
    expect(savedOutbox(bobDir)).toContain(clientMsgId);
    expect(bob.outbox(clientMsgId).map((e) => e.status)).toEqual(['queued']);

    const again = startApp(bobDir);
    const resuming = again.core.resume();
    await again.untilStatus('reconnecting', 10_000);
    // What a window opened now is shown: the message, still on its way.
    expect(await again.call('unsent')).toEqual([{ clientMsgId, target: { kind: 'room' }, text: 'written while the host was down' }]);

    await room.start({ port });
    expect(await resuming).toMatchObject({ ok: true });
    await waitFor(() => again.outbox(clientMsgId).some((e) => e.status === 'sent'), 'the message stored');
    const carol = await room.user('carol');
    const messages = await stored(carol, 'written while the host was down');
    expect(messages).toHaveLength(1);
    expect(again.outbox(clientMsgId).find((e) => e.status === 'sent')?.message?.id).toBe(messages[0]!.id);
    expect(await again.call('unsent')).toEqual([]);
    expect(savedOutbox(bobDir)).not.toContain(clientMsgId);
  });

  it('ends as one message when the host stored it but its answer was lost as the app quit', async () => {
    await room.start();
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    const carol = await room.user('carol');
    const bobDir = profile();
    const bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret' });
    const text = 'stored, its answer lost';
    const seen: ChatMessage[] = [];
    carol.on('message', (message) => {
      if (message.text === text) seen.push(message);
    });
    proxy.muteHost();
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'room' }, text);
    await waitFor(() => seen.length > 0, 'the host to store the message');
    await bob.stop();
    expect(bob.outbox(clientMsgId).map((e) => [e.status, e.tried])).toEqual([
      ['queued', undefined],
      ['queued', true],
    ]);
    expect(savedOutbox(bobDir)).toContain(clientMsgId);

    const again = startApp(bobDir);
    expect(await again.core.resume()).toMatchObject({ ok: true });
    await waitFor(() => again.outbox(clientMsgId).some((e) => e.status === 'sent'), 'the resend answered');
    const messages = await stored(carol, text);
    expect(messages).toHaveLength(1);
    expect(again.outbox(clientMsgId).find((e) => e.status === 'sent')?.message?.id).toBe(messages[0]!.id);
    // The windows were given it once: by the catch-up, the resend's answer (a duplicate) adding nothing.
    const shown = again.events.flatMap((e) => (e.type === 'message' && e.message.text === text ? [e.message.id] : []));
    expect(shown).toEqual([messages[0]!.id]);
    expect(await again.call('unsent')).toEqual([]);
    expect(savedOutbox(bobDir)).not.toContain(clientMsgId);
  });

  it('cancels messages written while the host is down, also after a restart: they never reach it, the others go', async () => {
    const { port, bobDir, bob } = await hostDownUnderBob();
    const send = async (app: typeof bob, text: string) => (await app.call<{ clientMsgId: string }>('send', { kind: 'room' }, text)).clientMsgId;
    const cancelledNow = await send(bob, 'cancelled at once');
    const kept = await send(bob, 'kept');
    const cancelledLater = await send(bob, 'cancelled after a restart');

    await bob.call('cancelUnsent', cancelledNow);
    expect(bob.outbox(cancelledNow).map((e) => e.status)).toEqual(['queued', 'failed']);
    expect(bob.outbox(cancelledNow).at(-1)?.error?.code).toBe('CANCELLED');
    await expect(bob.call('cancelUnsent', cancelledNow)).rejects.toThrow('INVALID_ARGUMENT');
    expect(savedOutbox(bobDir)).not.toContain(cancelledNow);
    await bob.stop();

    const again = startApp(bobDir);
    const resuming = again.core.resume();
    await again.untilStatus('reconnecting', 10_000);
    await again.call('cancelUnsent', cancelledLater);
    expect((await again.call<{ clientMsgId: string }[]>('unsent')).map((item) => item.clientMsgId)).toEqual([kept]);

    await room.start({ port });
    expect(await resuming).toMatchObject({ ok: true });
    await waitFor(() => again.outbox(kept).some((e) => e.status === 'sent'), 'the kept message stored');
    const carol = await room.user('carol');
    const texts = (await carol.request('history', { conv: 'room', limit: 100 })).messages.map((message) => message.text);
    expect(texts).toContain('kept');
    expect(texts).not.toContain('cancelled at once');
    expect(texts).not.toContain('cancelled after a restart');
    expect(savedOutbox(bobDir)).not.toContain(kept);
  });

  it('does not cancel a message that went out before its link dropped: the host may have it, and its answer tells', async () => {
    const text = 'stored, then asked to cancel';
    const { port, proxy, seen } = await relayedRoom(text);
    const bobDir = profile();
    const bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret' });
    proxy.muteHost();
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'room' }, text);
    await waitFor(() => seen.length > 0, 'the host to store the message');
    // The window is told it went out, so it does not offer a cancel that cannot be had.
    expect(bob.outbox(clientMsgId).filter((e) => e.status === 'queued').map((e) => e.tried)).toEqual([undefined, true]);
    // Its answer is lost: the cancel waits for the try, which ends with the link.
    const cancelling = expect(bob.call('cancelUnsent', clientMsgId)).rejects.toThrow('MAYBE_SENT');
    await room.stop();
    await cancelling;

    // Asked again while the host is down, and after a restart of the app: the same.
    await expect(bob.call('cancelUnsent', clientMsgId)).rejects.toThrow('MAYBE_SENT');
    await bob.stop();
    const again = startApp(bobDir);
    const resuming = again.core.resume();
    await again.untilStatus('reconnecting', 10_000);
    await expect(again.call('cancelUnsent', clientMsgId)).rejects.toThrow('MAYBE_SENT');
    expect(await again.call('unsent')).toEqual([{ clientMsgId, target: { kind: 'room' }, text, tried: true }]);

    await room.start({ port });
    expect(await resuming).toMatchObject({ ok: true });
    await waitFor(() => again.outbox(clientMsgId).some((e) => e.status === 'sent'), 'the resend answered');
    expect(again.outbox(clientMsgId).find((e) => e.status === 'sent')?.message?.id).toBe(seen[0]!.id);
    await expect(again.call('cancelUnsent', clientMsgId)).rejects.toThrow('INVALID_ARGUMENT');
  });

  it('waits for the answer to a message on its way: one the host stores meanwhile is reported sent, not cancelled', async () => {
    const text = 'stored while its cancel waited';
    const { proxy, seen } = await relayedRoom(text);
    const bob = startApp(profile());
    await bob.call('join', { host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret' });
    proxy.holdHost();
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'room' }, text);
    await waitFor(() => seen.length > 0, 'the host to store the message');
    // Asked while the answer is held: it went, so the cancel says so (without waiting, it could only guess: MAYBE_SENT).
    const cancelling = expect(bob.call('cancelUnsent', clientMsgId)).rejects.toThrow('INVALID_ARGUMENT');
    proxy.releaseHost();
    await cancelling;
    await waitFor(() => bob.outbox(clientMsgId).some((e) => e.status === 'sent'), 'reported sent');
    expect(bob.outbox(clientMsgId).some((e) => e.status === 'failed')).toBe(false);
    expect(await bob.call('unsent')).toEqual([]);
  });
});
