/**
 * The outbox of end-to-end encrypted messages (issue 35): a DM or group message given to send is kept in
 * the device's encrypted history until the host stored it or refused it for good, goes when the link is
 * back and at the next start, in order, under its first client id, so the host stores it once; the
 * profile holds none of its text in clear meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import { isE2ee } from '../../src-shared/e2ee-app.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { folderHolds, nextEvent, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';
import { startResumingApp } from './testing.js';

const room = useRoom();
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function profile(): string {
  const dir = tempDir('lanchat-e2ee-outbox-');
  cleanups.push(() => removeDir(dir));
  return dir;
}

function startApp(profileDir: string) {
  const app = startResumingApp(profileDir, cleanups, { minMs: 50, maxMs: 200 });
  const outbox = (clientMsgId: string) => app.events.flatMap((e) => (e.type === 'outbox' && e.clientMsgId === clientMsgId ? [e] : []));
  /** The messages of that text the app's windows were given. */
  const shown = (text: string): ChatMessage[] => app.events.flatMap((e: AppEvent) => (e.type === 'message' && e.message.text === text ? [e.message] : []));
  const sentAs = (clientMsgId: string): ChatMessage | undefined => outbox(clientMsgId).find((e) => e.status === 'sent')?.message;
  return { ...app, outbox, shown, sentAs };
}
/** alice and bob in the room on `port` (bob through `bobPort` if given), with an accepted DM, and one encrypted message sent each way. */
async function pair(port: number, bobPort = port) {
  const aliceDir = profile();
  const alice = startApp(aliceDir);
  const bobDir = profile();
  const bob = startApp(bobDir);
  await alice.call('join', { host: '127.0.0.1', port, name: 'alice', password: 'alice-secret' });
  await bob.call('join', { host: '127.0.0.1', port: bobPort, name: 'bob', password: 'bob-secret' });
  await alice.call('chatRequest', 'bob');
  await bob.call('chatAnswer', 'alice', true);
  const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'hello-before');
  await waitFor(() => bob.sentAs(clientMsgId) !== undefined, 20_000, 'the first encrypted message sent');
  expect(isE2ee(bob.sentAs(clientMsgId)!)).toBe(true);
  await waitFor(() => alice.shown('hello-before').length > 0, 20_000, 'the first encrypted message at alice');
  return { alice, aliceDir, bob, bobDir, conv: bob.sentAs(clientMsgId)!.conv };
}

/** The room started, and alice and bob paired (pair) with bob's link through a relay. */
async function relayedPair() {
  await room.start();
  const proxy = await LinkProxy.start(await freePort(), () => room.port);
  cleanups.push(() => proxy.close());
  return { proxy, ...(await pair(room.port, proxy.port)) };
}

describe('encrypted messages sent while the host cannot take them', { timeout: 90_000 }, () => {
  it('stay queued while the host is down, go in order once it is back, and arrive once each', async () => {
    const port = await freePort();
    await room.start({ port });
    const { alice, bob, bobDir } = await pair(port);

    await room.stop();
    await bob.untilStatus('reconnecting', 20_000);
    const first = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-offline-first');
    const second = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-offline-second');
    // Kept on the device, encrypted: no file of the profile holds the text.
    expect(folderHolds(bobDir, 'secret-offline-first')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bob.outbox(first.clientMsgId).map((e) => e.status)).toEqual(['queued']);
    expect(bob.outbox(second.clientMsgId).map((e) => e.status)).toEqual(['queued']);
    expect((await bob.call<{ clientMsgId: string }[]>('unsent')).map((item) => item.clientMsgId)).toEqual([first.clientMsgId, second.clientMsgId]);

    await room.start({ port });
    await waitFor(() => alice.shown('secret-offline-second').length > 0, 30_000, 'both at alice');
    await waitFor(() => bob.sentAs(second.clientMsgId) !== undefined, 30_000, 'both sent');
    const [atAlice1, atAlice2] = [alice.shown('secret-offline-first'), alice.shown('secret-offline-second')];
    expect(atAlice1).toHaveLength(1);
    expect(atAlice2).toHaveLength(1);
    expect(atAlice1[0]!.id).toBeLessThan(atAlice2[0]!.id);
    expect(bob.sentAs(first.clientMsgId)!.id).toBe(atAlice1[0]!.id);
    expect(bob.sentAs(second.clientMsgId)!.id).toBe(atAlice2[0]!.id);
    expect(bob.outbox(first.clientMsgId).some((e) => e.status === 'failed')).toBe(false);
    expect(await bob.call('unsent')).toEqual([]);
  });

  it('are sent by the next start of the app on the same profile, shown as sending until then', async () => {
    const port = await freePort();
    await room.start({ port });
    const { alice, bob, bobDir, conv } = await pair(port);

    await room.stop();
    await bob.untilStatus('reconnecting', 20_000);
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-across-restart', undefined);
    await bob.stop();
    expect(bob.outbox(clientMsgId).map((e) => e.status)).toEqual(['queued']);
    expect(folderHolds(bobDir, 'secret-across-restart')).toBe(false);

    const again = startApp(bobDir);
    const resuming = again.core.resume();
    await again.untilStatus('reconnecting', 20_000);
    expect(await again.call('unsent')).toEqual([{ clientMsgId, target: { kind: 'dm', user: 'alice' }, text: 'secret-across-restart' }]);
    // Written before this start's login answered, when the app cannot know whether the host encrypts: kept encrypted too, never sent plain.
    const before = await again.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-before-login');
    expect(folderHolds(bobDir, 'secret-before-login')).toBe(false);

    await room.start({ port });
    expect(await resuming).toMatchObject({ ok: true });
    await waitFor(() => again.sentAs(before.clientMsgId) !== undefined, 30_000, 'sent by the next start');
    await waitFor(() => alice.shown('secret-before-login').length > 0, 30_000, 'at alice');
    expect(alice.shown('secret-across-restart')).toHaveLength(1);
    expect(alice.shown('secret-before-login')).toHaveLength(1);
    expect(again.sentAs(clientMsgId)).toMatchObject({ id: alice.shown('secret-across-restart')[0]!.id, conv });
    expect(isE2ee(again.sentAs(before.clientMsgId)!)).toBe(true);
    expect(again.sentAs(clientMsgId)!.id).toBeLessThan(again.sentAs(before.clientMsgId)!.id);
    expect(await again.call('unsent')).toEqual([]);
    for (const text of ['secret-across-restart', 'secret-before-login']) expect(folderHolds(room.dir, text), text).toBe(false);
  });

  it('is recorded once, with the stored frame’s id, when the host stored it and its answer was lost as the app quit', async () => {
    const { proxy, alice, bob, bobDir, conv } = await relayedPair();

    proxy.muteHost();
    const text = 'secret-stored-answer-lost';
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, text);
    await waitFor(() => alice.shown(text).length > 0, 20_000, 'the host to store and relay it');
    await bob.stop();
    expect(bob.outbox(clientMsgId).map((e) => [e.status, e.tried])).toEqual([
      ['queued', undefined],
      ['queued', true],
    ]);

    const again = startApp(bobDir);
    expect(await again.core.resume()).toMatchObject({ ok: true });
    await waitFor(() => again.sentAs(clientMsgId) !== undefined, 30_000, 'the resend answered');
    const atAlice = alice.shown(text);
    expect(atAlice).toHaveLength(1);
    expect(again.sentAs(clientMsgId)!.id).toBe(atAlice[0]!.id);
    const page = await again.call<{ messages: ChatMessage[] }>('history', conv);
    expect(page.messages.filter((message) => message.text === text).map((message) => message.id)).toEqual([atAlice[0]!.id]);
    // A later message still reaches alice: the resend's new generation did not upset her group.
    const after = await again.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-after-resend');
    await waitFor(() => alice.shown('secret-after-resend').length > 0, 20_000, 'the next message at alice');
    // The host's answer to this app and its push to alice race: either may come first.
    await waitFor(() => again.sentAs(after.clientMsgId) !== undefined, 20_000, 'the next message sent');
    expect(again.sentAs(after.clientMsgId)!.id).toBe(alice.shown('secret-after-resend')[0]!.id);
  });

  it('is not cancelled once it went out before its link dropped: the host may have it (MAYBE_SENT), and its resend tells', async () => {
    const { proxy, alice, bob, bobDir } = await relayedPair();

    proxy.muteHost();
    const text = 'secret-then-asked-to-cancel';
    const { clientMsgId } = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, text);
    await waitFor(() => alice.shown(text).length > 0, 20_000, 'the host to store and relay it');
    // The window is told it went out, so it does not offer a cancel that cannot be had.
    expect(bob.outbox(clientMsgId).map((e) => [e.status, e.tried])).toEqual([
      ['queued', undefined],
      ['queued', true],
    ]);
    proxy.close();
    await bob.untilStatus('reconnecting', 20_000);
    await expect(bob.call('cancelUnsent', clientMsgId)).rejects.toThrow('MAYBE_SENT');

    // The same after a restart of the app, before and after the host answers the resend.
    await bob.stop();
    const again = startApp(bobDir);
    const resuming = again.core.resume();
    await again.untilStatus('reconnecting', 20_000);
    expect(await again.call('unsent')).toEqual([{ clientMsgId, target: { kind: 'dm', user: 'alice' }, text, tried: true }]);
    await expect(again.call('cancelUnsent', clientMsgId)).rejects.toThrow('MAYBE_SENT');
    await proxy.listen();
    expect(await resuming).toMatchObject({ ok: true });
    await waitFor(() => again.sentAs(clientMsgId) !== undefined, 30_000, 'the resend answered');
    expect(alice.shown(text)).toHaveLength(1);
    expect(again.sentAs(clientMsgId)!.id).toBe(alice.shown(text)[0]!.id);
    expect(again.outbox(clientMsgId).some((e) => e.status === 'failed')).toBe(false);
    await expect(again.call('cancelUnsent', clientMsgId)).rejects.toThrow('INVALID_ARGUMENT');
  });

  type App = ReturnType<typeof startApp>;
  /**
   * alice and bob in a group whose encryption has a message already, and carol, a device, added to it; `before`
   * runs before she accepts, and may hand back the alice to go on with (her app started again).
   */
  async function groupThenCarol(before: (apps: { alice: App; aliceDir: string; bob: App }) => Promise<App | void> = async () => undefined) {
    await room.start();
    const { alice, aliceDir, bob } = await pair(room.port);
    const carol = startApp(profile());
    await carol.call('join', { host: '127.0.0.1', port: room.port, name: 'carol', password: 'carol-secret' });
    const group = await alice.call<{ id: number }>('groupCreate', 'plans', ['bob']);
    await bob.call('groupAnswer', group.id, true);
    const first = await alice.call<{ clientMsgId: string }>('send', { kind: 'group', groupId: group.id }, 'secret-before-carol');
    await waitFor(() => alice.sentAs(first.clientMsgId) !== undefined, 20_000, 'the group encrypted before carol');
    await alice.call('groupAddMember', group.id, 'carol');
    const then = (await before({ alice, aliceDir, bob })) ?? alice;
    await carol.call('groupAnswer', group.id, true);
    return { alice: then, aliceDir, bob, carol, groupId: group.id };
  }

  it('to a group it just joined, goes at once: a member’s app adds its device without waiting to write', async () => {
    const { alice, bob, carol, groupId } = await groupThenCarol();
    const hi = await carol.call<{ clientMsgId: string }>('send', { kind: 'group', groupId }, 'secret-carol-first');
    await waitFor(() => carol.sentAs(hi.clientMsgId) !== undefined, 30_000, 'carol’s message sent');
    await waitFor(() => alice.shown('secret-carol-first').length > 0 && bob.shown('secret-carol-first').length > 0, 20_000, 'at alice and bob');
    expect(carol.outbox(hi.clientMsgId).some((e) => e.status === 'failed')).toBe(false);
    // Nobody else wrote in the group meanwhile: alice's one message is from before carol.
    expect(alice.events.filter((e) => e.type === 'outbox' && e.status === 'sent' && e.target.kind === 'group')).toHaveLength(1);
    expect(bob.events.filter((e) => e.type === 'outbox' && e.status === 'sent' && e.target.kind === 'group')).toHaveLength(0);
  });

  it('to a group it just joined, goes at once also when the member’s app that adds it started after the group was made', async () => {
    const { alice, carol, groupId } = await groupThenCarol(async ({ alice, aliceDir, bob }) => {
      // alice's app starts again before carol joins (bob's is gone): it learns who is in the group at its start.
      await Promise.all([alice.stop(), bob.stop()]);
      const again = startApp(aliceDir);
      expect(await again.core.resume()).toMatchObject({ ok: true });
      // Her device runs once a message of hers goes (a DM: nothing in the group).
      const dm = await again.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'bob' }, 'secret-alice-back');
      await waitFor(() => again.sentAs(dm.clientMsgId) !== undefined, 20_000, 'alice’s device running');
      return again;
    });
    const hi = await carol.call<{ clientMsgId: string }>('send', { kind: 'group', groupId }, 'secret-carol-to-a-restarted-alice');
    await waitFor(() => carol.sentAs(hi.clientMsgId) !== undefined, 30_000, 'carol’s message sent');
    await waitFor(() => alice.shown('secret-carol-to-a-restarted-alice').length > 0, 20_000, 'at alice');
  });

  it('to a group whose encryption this device is not in yet, waits while no member’s app is there to add it, and goes once one is back', async () => {
    const { aliceDir, carol, groupId } = await groupThenCarol(async ({ alice, bob }) => {
      // No member's app is online when carol joins: nobody adds her device.
      await Promise.all([alice.stop(), bob.stop()]);
    });
    const hi = await carol.call<{ clientMsgId: string }>('send', { kind: 'group', groupId }, 'secret-carol-waits');
    await waitFor(() => carol.outbox(hi.clientMsgId).some((e) => e.error?.code === 'E2EE_WAITING'), 20_000, 'carol told it waits');
    expect(carol.outbox(hi.clientMsgId).some((e) => e.status === 'failed')).toBe(false);

    // alice's app again: at its start it adds carol's device, who joined while it was away, without alice writing.
    const alice = startApp(aliceDir);
    expect(await alice.core.resume()).toMatchObject({ ok: true });
    await waitFor(() => carol.sentAs(hi.clientMsgId) !== undefined, 30_000, 'carol’s message sent');
    await waitFor(() => alice.shown('secret-carol-waits').length > 0, 20_000, 'at alice');
    expect(await carol.call('unsent')).toEqual([]);
  });

  it('to a group whose encryption has not begun and whose other member has no device yet, waits saying so, and goes once his app can receive it', async () => {
    await room.start();
    const alice = startApp(profile());
    await alice.call('join', { host: '127.0.0.1', port: room.port, name: 'alice', password: 'alice-secret' });
    const olderClient = await room.user('dave');
    const group = await alice.call<{ id: number }>('groupCreate', 'plans', ['dave']);
    await olderClient.request('groupAnswer', { groupId: group.id, accept: true });
    await waitFor(async () => (await alice.call<{ id: number; members: string[] }[]>('groups')).some((g) => g.id === group.id && g.members.length === 2), 20_000, 'dave in the group');
    const hi = await alice.call<{ clientMsgId: string }>('send', { kind: 'group', groupId: group.id }, 'secret-to-deviceless');
    await waitFor(() => alice.outbox(hi.clientMsgId).length > 1, 20_000, 'the message said to wait');
    expect(alice.outbox(hi.clientMsgId)).toMatchObject([
      { status: 'queued' },
      { status: 'queued', error: { code: 'E2EE_WAITING', message: expect.stringContaining('dave’s app cannot receive end-to-end encrypted messages yet'), waitingFor: ['dave'] } },
    ]);

    // dave's app comes: the host tells alice's, and the group's encryption begins with it.
    const dave = startApp(profile());
    await dave.call('join', { host: '127.0.0.1', port: room.port, name: 'dave', password: 'dave-secret' });
    await waitFor(() => dave.shown('secret-to-deviceless').length > 0, 30_000, 'the message at dave');
    await waitFor(() => alice.sentAs(hi.clientMsgId) !== undefined, 30_000, 'reported sent');
    expect(isE2ee(alice.sentAs(hi.clientMsgId)!)).toBe(true);
  });

  it('to a group whose encryption has not begun and whose first other member has no device, begins it with the next, and names who cannot read it', async () => {
    await room.start();
    const { alice, bob } = await pair(room.port);
    // abe, listed before bob, signs in with a client that has no device.
    const abe = await room.user('abe');
    const group = await alice.call<{ id: number }>('groupCreate', 'plans', ['abe', 'bob']);
    await abe.request('groupAnswer', { groupId: group.id, accept: true });
    await bob.call('groupAnswer', group.id, true);
    await waitFor(async () => (await alice.call<{ id: number; members: string[] }[]>('groups')).some((g) => g.id === group.id && g.members.length === 3), 20_000, 'both in the group');
    const hi = await alice.call<{ clientMsgId: string }>('send', { kind: 'group', groupId: group.id }, 'secret-past-abe');
    await waitFor(() => alice.sentAs(hi.clientMsgId) !== undefined, 30_000, 'the message sent');
    await waitFor(() => bob.shown('secret-past-abe').length > 0, 20_000, 'at bob');
    expect(alice.events).toContainEqual(expect.objectContaining({ type: 'e2eeNotice', kind: 'unreachable', users: ['abe'] }));
  });

  it('ends as failed, and is not sent, when its sender was removed from the group while it waited', async () => {
    const { proxy, alice, bob } = await relayedPair();
    const group = await alice.call<{ id: number }>('groupCreate', 'plans', ['bob']);
    await bob.call('groupAnswer', group.id, true);
    const hello = await bob.call<{ clientMsgId: string }>('send', { kind: 'group', groupId: group.id }, 'group-hello');
    await waitFor(() => bob.sentAs(hello.clientMsgId) !== undefined, 20_000, 'the first group message sent');

    // bob's link is cut; meanwhile alice removes him; what he wrote in between waits, then is refused.
    proxy.close();
    await bob.untilStatus('reconnecting', 20_000);
    const late = await bob.call<{ clientMsgId: string }>('send', { kind: 'group', groupId: group.id }, 'secret-after-removal');
    await alice.call('groupRemoveMember', group.id, 'bob');
    await proxy.listen();
    await waitFor(() => bob.outbox(late.clientMsgId).some((e) => e.status !== 'queued'), 30_000, 'the queued message to end');
    const outcome = bob.outbox(late.clientMsgId).at(-1)!;
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.code).toBe('E2EE_UNAVAILABLE');
    expect(await bob.call('unsent')).toEqual([]);
    // Nothing reached alice, and a message after it still goes.
    const dm = await bob.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'dm-after-removal');
    await waitFor(() => alice.shown('dm-after-removal').length > 0, 20_000, 'the next DM at alice');
    await waitFor(() => bob.sentAs(dm.clientMsgId) !== undefined, 20_000, 'the next DM sent');
    expect(alice.shown('secret-after-removal')).toEqual([]);
  });

  it('a file message whose answer was lost is sent again with its sealed file, and recorded once', async () => {
    const { proxy, alice, bob, bobDir } = await relayedPair();

    // The upload goes on a link of its own, opened after this: only the message's answer is lost.
    proxy.muteHost();
    const name = 'secret-plan-name.txt';
    await bob.call('sendFiles', { kind: 'dm', user: 'alice' }, [{ name, data: Buffer.from('secret file bytes').toString('base64') }], 'secret-file-caption');
    const atAlice = () => alice.events.flatMap((e) => (e.type === 'message' && e.message.attachments?.some((file) => file.name === name) ? [e.message] : []));
    await waitFor(() => atAlice().length > 0, 30_000, 'the host to store and relay it');
    const clientMsgId = atAlice()[0]!.clientMsgId;
    await bob.stop();
    expect(folderHolds(bobDir, 'secret-file-caption')).toBe(false);

    const again = startApp(bobDir);
    expect(await again.core.resume()).toMatchObject({ ok: true });
    await waitFor(() => again.outbox(clientMsgId).some((e) => e.status === 'sent' || e.status === 'failed'), 30_000, 'the resend answered');
    // Sent, not failed; a 'delivered' may follow it already (alice's app fetched the frame).
    expect(again.outbox(clientMsgId).some((e) => e.status === 'failed')).toBe(false);
    expect(again.sentAs(clientMsgId)).toMatchObject({ id: atAlice()[0]!.id, attachments: [{ name }] });
    expect(atAlice()).toHaveLength(1);
  });
});

describe('a DM to someone whose app cannot receive encrypted messages yet', { timeout: 90_000 }, () => {
  /** alice's app, with chats accepted by carol's app and by bob's account on a client that is no encryption device. */
  async function waitingRoom() {
    await room.start();
    const [alice, carol] = [startApp(profile()), startApp(profile())];
    await alice.call('join', { host: '127.0.0.1', port: room.port, name: 'alice', password: 'alice-secret' });
    await carol.call('join', { host: '127.0.0.1', port: room.port, name: 'carol', password: 'carol-secret' });
    const bobWithoutDevice = await room.user('bob');
    await alice.call('chatRequest', 'bob');
    await bobWithoutDevice.request('chatAnswer', { user: 'alice', accept: true });
    await alice.call('chatRequest', 'carol');
    await carol.call('chatAnswer', 'alice', true);
    const send = async (user: string, text: string) => (await alice.call<{ clientMsgId: string }>('send', { kind: 'dm', user }, text)).clientMsgId;
    /** bob's app signs in: it becomes an encryption device, and the host tells alice's app. */
    const bobsAppJoins = async () => {
      const bob = startApp(profile());
      await bob.call('join', { host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' });
      return bob;
    };
    return { alice, carol, send, bobsAppJoins };
  }

  it('waits, with those after it, while DMs to others go; both go in order once his app can receive them', async () => {
    const { alice, carol, send, bobsAppJoins } = await waitingRoom();
    const first = await send('bob', 'for-bob-first');
    const second = await send('bob', 'for-bob-second');
    const other = await send('carol', 'for-carol');
    await waitFor(() => carol.shown('for-carol').length > 0, 30_000, 'the DM to carol past the waiting ones');
    await waitFor(() => alice.outbox(first).length > 1, 30_000, 'the first to bob said to wait');
    expect(alice.outbox(first)).toMatchObject([{ status: 'queued' }, { status: 'queued', error: { code: 'E2EE_WAITING', message: expect.stringContaining('bob') } }]);
    expect(alice.outbox(second).map((e) => e.status)).toEqual(['queued']);
    expect(alice.outbox(other).map((e) => e.status)).toContain('sent');
    // A window opened now is told the same: why the first waits.
    expect(await alice.call('unsent')).toEqual([
      { clientMsgId: first, target: { kind: 'dm', user: 'bob' }, text: 'for-bob-first', error: { code: 'E2EE_WAITING', message: expect.stringContaining('bob'), waitingFor: ['bob'] } },
      { clientMsgId: second, target: { kind: 'dm', user: 'bob' }, text: 'for-bob-second' },
    ]);

    const bob = await bobsAppJoins();
    await waitFor(() => bob.shown('for-bob-second').length > 0, 30_000, 'both at bob once his app is a device');
    const [atBob1, atBob2] = [bob.shown('for-bob-first'), bob.shown('for-bob-second')];
    expect(atBob1).toHaveLength(1);
    expect(isE2ee(atBob1[0]!)).toBe(true);
    expect(atBob1[0]!.id).toBeLessThan(atBob2[0]!.id);
    await waitFor(() => alice.sentAs(second) !== undefined, 30_000, 'both reported sent');
    expect(alice.sentAs(first)!.id).toBe(atBob1[0]!.id);
    expect(alice.outbox(first).some((e) => e.status === 'failed')).toBe(false);
    expect(await alice.call('unsent')).toEqual([]);
  });

  it('can be cancelled while it waits, and is then never sent', async () => {
    const { alice, send, bobsAppJoins } = await waitingRoom();
    const cancelled = await send('bob', 'for-bob-cancelled');
    const after = await send('bob', 'for-bob-after');
    await waitFor(() => alice.outbox(cancelled).length > 1, 30_000, 'said to wait');
    await expect(alice.call('cancelUnsent', 'no-such-message')).rejects.toThrow('INVALID_ARGUMENT');
    await alice.call('cancelUnsent', cancelled);
    expect(alice.outbox(cancelled).at(-1)).toMatchObject({ status: 'failed', error: { code: 'CANCELLED' } });
    await expect(alice.call('cancelUnsent', cancelled)).rejects.toThrow('INVALID_ARGUMENT');
    // The next one is now first in the conversation, and says why it waits.
    await waitFor(() => alice.outbox(after).some((e) => e.error?.code === 'E2EE_WAITING'), 30_000, 'the next said to wait');
    expect((await alice.call<{ clientMsgId: string }[]>('unsent')).map((item) => item.clientMsgId)).toEqual([after]);

    const bob = await bobsAppJoins();
    await waitFor(() => bob.shown('for-bob-after').length > 0, 30_000, 'the next one at bob');
    await waitFor(() => alice.sentAs(after) !== undefined, 30_000, 'reported sent');
    expect(bob.shown('for-bob-cancelled')).toEqual([]);
    expect(alice.outbox(cancelled).some((e) => e.status === 'sent')).toBe(false);
  });
});

describe("a user's new app that comes while the other apps of a DM are away", { timeout: 90_000 }, () => {
  it('is added by the first of them to reconnect, without a message, and its message waiting for that goes', async () => {
    const { proxy, alice, bob } = await relayedPair();
    await alice.stop();
    proxy.close();
    await bob.untilStatus('reconnecting', 20_000);

    // The host names the laptop to bob's sessions and alice's: none of their apps is there to hear it.
    const watcher = await room.user('bob');
    const told = nextEvent(watcher, 'deviceReady');
    const laptop = startApp(profile());
    await laptop.call('join', { host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' });
    await told;
    const mine = await laptop.call<{ clientMsgId: string }>('send', { kind: 'dm', user: 'alice' }, 'secret-from-the-laptop');
    await waitFor(() => laptop.outbox(mine.clientMsgId).some((e) => e.error?.code === 'E2EE_WAITING'), 20_000, 'the laptop told it waits');

    // bob's first app reconnects: it finds the laptop missing from the DM's group, and adds it.
    await proxy.listen();
    await waitFor(() => laptop.sentAs(mine.clientMsgId) !== undefined, 30_000, 'the laptop’s message sent');
    await waitFor(() => bob.shown('secret-from-the-laptop').length > 0, 20_000, 'at bob’s first app');
    expect(isE2ee(laptop.sentAs(mine.clientMsgId)!)).toBe(true);
  });
});

describe('a group member whose app comes while this app is away', { timeout: 90_000 }, () => {
  it('is added when this app is back, without a message, and her message waiting for it goes', async () => {
    await room.start();
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    const [alice, bob] = [startApp(profile()), startApp(profile())];
    await alice.call('join', { host: '127.0.0.1', port: room.port, name: 'alice', password: 'alice-secret' });
    await bob.call('join', { host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret' });
    // carol is in from an older client: no encryption device, and no chat with bob. She joins before the
    // group's encryption begins, so bob's app alone has claimed her (alice's was in no encryption of it then).
    const older = await room.user('carol');
    const group = await bob.call<{ id: number }>('groupCreate', 'plans', ['alice', 'carol']);
    await alice.call('groupAnswer', group.id, true);
    await older.request('groupAnswer', { groupId: group.id, accept: true });
    const toGroup = { kind: 'group', groupId: group.id };
    const first = await bob.call<{ clientMsgId: string }>('send', toGroup, 'secret-before-carol-could-read');
    await waitFor(() => bob.sentAs(first.clientMsgId) !== undefined, 30_000, 'the first message sent');

    // bob's link drops; carol's app comes meanwhile, so the host's word that it can be added never reaches him.
    proxy.close();
    await bob.untilStatus('reconnecting', 20_000);
    const carol = startApp(profile());
    await carol.call('join', { host: '127.0.0.1', port: room.port, name: 'carol', password: 'carol-secret' });
    const hers = await carol.call<{ clientMsgId: string }>('send', toGroup, 'secret-carol-writes');
    await waitFor(() => carol.outbox(hers.clientMsgId).length > 1, 30_000, 'hers said to wait');
    expect(carol.sentAs(hers.clientMsgId)).toBeUndefined();

    await proxy.listen();
    await waitFor(() => bob.shown('secret-carol-writes').length > 0, 30_000, 'hers at bob, once his app added her');
    await waitFor(() => alice.shown('secret-carol-writes').length > 0, 30_000, 'hers at alice');
    await waitFor(() => carol.sentAs(hers.clientMsgId) !== undefined, 30_000, 'hers sent');
    expect(isE2ee(carol.sentAs(hers.clientMsgId)!)).toBe(true);
  });
});
