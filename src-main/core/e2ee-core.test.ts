import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import { isE2ee } from '../../src-shared/e2ee-app.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { createDevice, createKeyPackage, signatureKeys } from '../crypto/mls.js';
import { filesHolding, login, nextEvent, waitFor, unwrap } from '../testing/harness.js';
import { ChatClient } from '../client/client.js';
import { AppCore } from './app.js';
import { e2eeCore, hostedRoom, sent } from './testing.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const newCore = () => e2eeCore(cleanups);

/** The message event whose text is `text`, once it came. */
async function received(events: AppEvent[], text: string): Promise<ChatMessage> {
  let found: ChatMessage | undefined;
  await waitFor(() => {
    for (const event of events) if (event.type === 'message' && event.message.text === text) found = event.message;
    return found !== undefined;
  });
  return found!;
}



/** What `read` finds in the database of the room hosted by the app whose profile is `profileDir`, opened read-only. */
function readHost<T>(profileDir: string, read: (host: Database.Database) => T): T {
  const host = new Database(join(profileDir, 'host', 'chat.sqlite'), { readonly: true });
  try {
    return read(host);
  } finally {
    host.close();
  }
}

/**
 * alice hosts the room Lab and bob's app joins it, and is an encryption device with key packages on the host
 * (else alice's first group message waits for it, which the tests do not expect); carol's app has not joined.
 */
async function aliceHostsForBob() {
  const [alice, bob, carol] = [newCore(), newCore(), newCore()];
  const { hosting } = unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
  const port = hosting!.port;
  unwrap(await bob.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
  await waitFor(
    () => readHost(alice.dir, (host) => host.prepare("SELECT 1 FROM mls_key_packages k JOIN users u ON u.id = k.user_id WHERE u.name = 'bob'").get() !== undefined),
    "bob's key packages on the host",
  );
  return { alice, bob, carol, hosting: hosting!, port };
}

/** As aliceHostsForBob, and alice makes a group with bob and has a DM with him; her first message in each reached his app. */
async function aliceAndBobInAGroupAndADm() {
  const apps = await aliceHostsForBob();
  const { alice, bob } = apps;
  const group = unwrap(await alice.core.groupCreate('plans', ['bob']));
  unwrap(await bob.core.groupAnswer(group.id, true));
  const toGroup = { kind: 'group', groupId: group.id } as const;
  const toBob = { kind: 'dm', user: 'bob' } as const;
  unwrap(await alice.core.chatRequest('bob'));
  unwrap(await bob.core.chatAnswer('alice', true));
  for (const [to, text] of [[toGroup, 'secret-group-before'], [toBob, 'secret-dm-before']] as const) {
    await sent(alice.events, unwrap(await alice.core.send(to, text)).clientMsgId);
    await received(bob.events, text);
  }
  return { ...apps, toGroup, toBob };
}

/** As aliceHostsForBob, and carol's app joins too: she asks bob for a chat, he accepts, and his first DM reached her. */
async function bobWritesToCarol() {
  const apps = await aliceHostsForBob();
  const { bob, carol, port } = apps;
  unwrap(await carol.core.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
  unwrap(await carol.core.chatRequest('bob'));
  unwrap(await bob.core.chatAnswer('carol', true));
  await sent(bob.events, unwrap(await bob.core.send({ kind: 'dm', user: 'carol' }, 'secret-before-the-laptop')).clientMsgId);
  await received(carol.events, 'secret-before-the-laptop');
  return apps;
}

describe('the app as an end-to-end encryption device', () => {
  it('DMs and groups (with a reply, a reaction and an edit) reach the other app decrypted, flagged e2ee, searchable there; the host holds none of the text', async () => {
    const alice = newCore();
    const bob = newCore();
    await hostedRoom(alice.core, bob.core);
    expect(unwrap(await alice.core.session()).features).toContain('mls');

    // A DM each way, the second a reply to the first.
    const first = unwrap(await alice.core.send({ kind: 'dm', user: 'bob' }, 'Gizli İstanbul planı'));
    const mine = await sent(alice.events, first.clientMsgId);
    expect(mine.status).toBe('sent');
    expect(isE2ee(mine.message!)).toBe(true);
    const atBob = await received(bob.events, 'Gizli İstanbul planı');
    expect(atBob).toMatchObject({ id: mine.message!.id, from: 'alice', to: 'bob', conv: mine.message!.conv, e2ee: true });
    unwrap(await bob.core.send({ kind: 'dm', user: 'alice' }, 'secret-answer-from-bob', atBob.id));
    const answer = await received(alice.events, 'secret-answer-from-bob');
    expect(answer.replyTo).toMatchObject({ id: atBob.id, from: 'alice', snippet: 'Gizli İstanbul planı' });

    // A reaction and an edit, inside the encryption too.
    unwrap(await bob.core.react(atBob.id, '👍', true));
    await waitFor(() => alice.events.some((event) => event.type === 'event' && event.event.kind === 'reaction' && event.event.message.reactions?.[0]?.users[0] === 'bob'));
    unwrap(await bob.core.editMessage(answer.id, 'secret-answer-edited'));
    await waitFor(() => alice.events.some((event) => event.type === 'event' && event.event.kind === 'edit' && event.event.message.text === 'secret-answer-edited'));

    // A group: on the host for membership, encrypted for what is said in it.
    const group = unwrap(await alice.core.groupCreate('plans', ['bob']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    const inGroup = unwrap(await bob.core.send({ kind: 'group', groupId: group.id }, 'secret-group-from-bob'));
    expect((await sent(bob.events, inGroup.clientMsgId)).status).toBe('sent');
    expect(await received(alice.events, 'secret-group-from-bob')).toMatchObject({ from: 'bob', groupId: group.id, e2ee: true });

    // Each app's history and search read its own store: word, part of a word, one letter, Turkish case, by person.
    const page = unwrap(await alice.core.history(mine.message!.conv));
    expect(page.messages.map((message) => message.text)).toEqual(['Gizli İstanbul planı', 'secret-answer-edited']);
    for (const query of ['istanbul', 'ISTANBUL', 'planı', 'stanb', 'İ']) {
      const hits = unwrap(await bob.core.search(query)).hits.map((hit) => hit.message.text);
      expect(hits, query).toContain('Gizli İstanbul planı');
    }
    expect(unwrap(await alice.core.search('', 'bob')).hits.map((hit) => hit.message.text)).toEqual(
      expect.arrayContaining(['secret-group-from-bob', 'secret-answer-edited']),
    );

    // Both compute the same safety number from the devices they saw; marking it verified is kept.
    const atAlice = unwrap(await alice.core.safetyNumber('bob'));
    expect(atAlice.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(unwrap(await bob.core.safetyNumber('alice')).safetyNumber).toBe(atAlice.safetyNumber);
    expect(atAlice.verified).toBe(false);
    unwrap(await alice.core.markVerified('bob'));
    expect(unwrap(await alice.core.safetyNumber('bob')).verified).toBe(true);

    // The room stays plain, and is what the host can read: the check that the byte search below works.
    const room = unwrap(await alice.core.send({ kind: 'room' }, 'plain-room-text-the-host-reads'));
    expect((await sent(alice.events, room.clientMsgId)).status).toBe('sent');
    await waitFor(() => filesHolding(join(alice.dir, 'host'), 'plain-room-text-the-host-reads').length > 0);
    for (const text of ['Gizli', 'stanbul', 'secret-answer', 'secret-group-from-bob', 'secret-answer-edited', '👍']) {
      expect(filesHolding(join(alice.dir, 'host'), text), text).toEqual([]);
    }
    // Nor does either app's whole profile on disk: the device histories (with their search index and WAL), the
    // outboxes, settings and logs. The app reads them back decrypted (above), from the sealed files.
    for (const text of ['Gizli', 'stanbul', 'secret-answer', 'secret-group-from-bob', 'secret-answer-edited']) {
      expect([...filesHolding(alice.dir, text), ...filesHolding(bob.dir, text)], text).toEqual([]);
    }
  });

  it('encrypted DMs and groups are delivered, read and receipted as plain ones, live and after an absence', async () => {
    const alice = newCore();
    const bob = newCore();
    const port = await hostedRoom(alice.core, bob.core);
    const delivered = (events: AppEvent[], clientMsgId: string): boolean =>
      events.some((event) => event.type === 'outbox' && event.clientMsgId === clientMsgId && event.status === 'delivered');
    const receiptsOf = async (core: AppCore, conv: string): Promise<Record<string, number>> =>
      Object.fromEntries(unwrap(await core.receipts(conv)).map((receipt) => [receipt.user, receipt.upTo]));
    const stateOf = async (core: AppCore, conv: string) => unwrap(await core.readState()).find((state) => state.conv === conv);

    // Live: bob's app is online, so the message is delivered as it is stored.
    const live = unwrap(await alice.core.send({ kind: 'dm', user: 'bob' }, 'secret-live'));
    const sentLive = (await sent(alice.events, live.clientMsgId)).message!;
    expect(isE2ee(sentLive)).toBe(true);
    await waitFor(() => delivered(alice.events, live.clientMsgId), 20_000, 'delivered at once');
    const atBob = await received(bob.events, 'secret-live');
    const conv = atBob.conv;
    expect(await stateOf(bob.core, conv)).toMatchObject({ unread: 1 });

    // bob reads it: alice is told at once and asked later; bob's read state counts nothing left.
    expect(unwrap(await bob.core.markRead(conv, atBob.id))).toBe(atBob.id);
    await waitFor(
      () => alice.events.some((event) => event.type === 'event' && event.event.kind === 'read' && event.event.user === 'bob' && event.event.upTo === atBob.id),
      20_000,
      "bob's read mark at alice",
    );
    expect(await receiptsOf(alice.core, conv)).toEqual({ bob: atBob.id });
    expect(await stateOf(bob.core, conv)).toMatchObject({ upTo: atBob.id, unread: 0 });

    // Away: what alice sends is not delivered until bob's app comes back and fetches it; then it is, and stays so.
    unwrap(await bob.core.leave());
    const later = unwrap(await alice.core.send({ kind: 'dm', user: 'bob' }, 'secret-while-away'));
    const sentLater = (await sent(alice.events, later.clientMsgId)).message!;
    expect(delivered(alice.events, later.clientMsgId)).toBe(false);
    expect(unwrap(await alice.core.history(conv)).deliveredUpTo).toBeLessThan(sentLater.id);
    unwrap(await bob.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    await received(bob.events, 'secret-while-away');
    await waitFor(
      () => alice.events.some((event) => event.type === 'delivered' && event.conv === conv && event.upTo >= sentLater.id),
      20_000,
      'delivered once fetched',
    );
    expect(await stateOf(bob.core, conv)).toMatchObject({ upTo: atBob.id, unread: 1 });
    expect(unwrap(await alice.core.history(conv)).deliveredUpTo).toBeGreaterThanOrEqual(sentLater.id);

    // A group: "Read by" comes from each member's position.
    const group = unwrap(await alice.core.groupCreate('plans', ['bob']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    const inGroup = unwrap(await bob.core.send({ kind: 'group', groupId: group.id }, 'secret-group-plan'));
    const groupMessage = (await sent(bob.events, inGroup.clientMsgId)).message!;
    await waitFor(() => delivered(bob.events, inGroup.clientMsgId), 20_000, 'group message delivered');
    const atAlice = await received(alice.events, 'secret-group-plan');
    expect(await stateOf(alice.core, atAlice.conv)).toMatchObject({ unread: 1 });
    unwrap(await alice.core.markRead(atAlice.conv, atAlice.id));
    await waitFor(
      () => bob.events.some((event) => event.type === 'event' && event.event.kind === 'read' && event.event.user === 'alice' && event.event.upTo === groupMessage.id),
      20_000,
      "alice's read mark at bob",
    );
    expect(await receiptsOf(bob.core, atAlice.conv)).toEqual({ alice: groupMessage.id });
    expect(await stateOf(alice.core, atAlice.conv)).toMatchObject({ upTo: groupMessage.id, unread: 0 });

    // The host keeps positions and delivery as ids, never the text.
    for (const text of ['secret-live', 'secret-while-away', 'secret-group-plan']) expect(filesHolding(join(alice.dir, 'host'), text), text).toEqual([]);
  });

  it('mentions in encrypted DMs and groups are worked out on each device as the host does for plain ones: listed, counted, found again on an edit; the host learns none', async () => {
    const alice = newCore();
    const bob = newCore();
    await hostedRoom(alice.core, bob.core);
    const group = unwrap(await alice.core.groupCreate('plans', ['bob']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    const stateOf = async (conv: string) => unwrap(await alice.core.readState()).find((state) => state.conv === conv);
    const sentBy = async (target: Parameters<AppCore['send']>[0], text: string): Promise<ChatMessage> =>
      (await sent(bob.events, unwrap(await bob.core.send(target, text)).clientMsgId)).message!;

    // A plain one in the room, the host's: what the encrypted ones must match.
    const plain = await received(alice.events, (await sentBy({ kind: 'room' }, '@alice. plain look')).text);
    expect(plain.mentions).toEqual(['alice']);

    // The same rules inside the encryption: names as names compare, trailing dots and dashes dropped, an e-mail address mentions nobody.
    const dmText = '@ALICE. look at this';
    const ownDm = await sentBy({ kind: 'dm', user: 'alice' }, dmText);
    expect(ownDm).toMatchObject({ e2ee: true, mentions: ['alice'] });
    const dm = await received(alice.events, dmText);
    expect(dm).toMatchObject({ e2ee: true, mentions: ['alice'] });
    const groupText = 'hi @alice and @bob-- (x@alice.org, @nobody)';
    await sentBy({ kind: 'group', groupId: group.id }, groupText);
    const inGroup = await received(alice.events, groupText);
    expect(inGroup).toMatchObject({ e2ee: true, mentions: ['alice', 'bob'] });
    const unmentioned = await sentBy({ kind: 'group', groupId: group.id }, 'nothing for anyone x@alice.org');
    expect((await received(alice.events, unmentioned.text)).mentions).toBeUndefined();

    // Counted as the host counts plain ones: unread messages that mention you.
    expect(await stateOf(dm.conv)).toMatchObject({ unread: 1, mentions: 1 });
    expect(await stateOf(inGroup.conv)).toMatchObject({ unread: 2, mentions: 1 });
    // An edit finds them again.
    unwrap(await bob.core.editMessage(unmentioned.id, 'now for @alice'));
    await waitFor(() => alice.events.some((event) => event.type === 'event' && event.event.kind === 'edit' && event.event.message.mentions?.[0] === 'alice'));
    expect(await stateOf(inGroup.conv)).toMatchObject({ unread: 2, mentions: 2 });
    unwrap(await alice.core.markRead(inGroup.conv, unmentioned.id));
    expect(await stateOf(inGroup.conv)).toMatchObject({ unread: 0, mentions: 0 });

    // The host holds the room's mention and none of the encrypted ones.
    expect(readHost(alice.dir, (host) => host.prepare('SELECT conv FROM mentions').pluck().all())).toEqual(['room']);
  });

  it('a member whose only device has no key package left (an older app, which keeps no last-resort one) is added once she has one again', async () => {
    const { alice, bob, carol, hosting, port } = await aliceHostsForBob();
    const group = unwrap(await alice.core.groupCreate('plans', ['bob']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    const toGroup = { kind: 'group', groupId: group.id } as const;
    await sent(alice.events, unwrap(await alice.core.send(toGroup, 'secret-alice-and-bob')).clientMsgId);
    await received(bob.events, 'secret-alice-and-bob');

    // carol's only device is an older app's: it uploaded one key package and no last-resort one, and someone
    // else took that package (as a member adding her elsewhere would).
    const tls = { tls: true, fingerprint: hosting.fingerprint! } as const;
    const carolElsewhere = await login({ address: { port } }, 'carol', 'carol-secret', tls);
    cleanups.push(() => carolElsewhere.close());
    const keys = await signatureKeys();
    const deviceId = randomBytes(16).toString('hex');
    const { userId } = await carolElsewhere.request('deviceRegister', { deviceId, signatureKey: Buffer.from(keys.publicKey).toString('base64') });
    const older = await createDevice(userId, deviceId, keys);
    await carolElsewhere.request('keyPackagesUpload', { deviceId, keyPackages: [Buffer.from((await createKeyPackage(older)).encoded).toString('base64')] });
    const eve = await login({ address: { port } }, 'eve', 'eve-secret', tls);
    cleanups.push(() => eve.close());
    const carolPackages = async (): Promise<boolean> => (await eve.request('keyPackagesClaim', { user: 'carol' })).devices.some((device) => device.keyPackage !== undefined);
    expect(await carolPackages()).toBe(true);
    unwrap(await alice.core.groupAddMember(group.id, 'carol'));
    await carolElsewhere.request('groupAnswer', { groupId: group.id, accept: true });
    await sent(alice.events, unwrap(await alice.core.send(toGroup, 'secret-before-carol-could-read')).clientMsgId);
    expect(alice.events).toContainEqual(expect.objectContaining({ type: 'e2eeNotice', kind: 'unreachable', users: ['carol'] }));

    // carol's app (today's) comes, with a device of its own: its first upload tells alice's app, which adds her.
    unwrap(await carol.core.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    const hers = unwrap(await carol.core.send(toGroup, 'secret-carol-writes'));
    expect((await sent(carol.events, hers.clientMsgId)).status).toBe('sent');
    await received(alice.events, 'secret-carol-writes');
    const second = unwrap(await alice.core.send(toGroup, 'secret-carol-reads'));
    expect((await sent(alice.events, second.clientMsgId)).status).toBe('sent');
    await received(carol.events, 'secret-carol-reads');
  });

  it('a member with no device (an older client) is claimed once, not at each message; when her app comes, the apps in the group add her without a message, and she writes at once', async () => {
    const { alice, bob, carol, hosting, port } = await aliceHostsForBob();
    // carol is in from an older client, with no encryption device; nobody has a chat with her.
    const older = await login({ address: { port } }, 'carol', 'carol-secret', { tls: true, fingerprint: hosting.fingerprint! });
    cleanups.push(() => older.close());
    const group = unwrap(await alice.core.groupCreate('plans', ['bob', 'carol']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    await older.request('groupAnswer', { groupId: group.id, accept: true });
    const toGroup = { kind: 'group', groupId: group.id } as const;
    await sent(alice.events, unwrap(await alice.core.send(toGroup, 'secret-before-carol-could-read')).clientMsgId);
    expect(alice.events).toContainEqual(expect.objectContaining({ type: 'e2eeNotice', kind: 'unreachable', users: ['carol'] }));

    // Every request of every client in this process, as it goes out.
    const asked = vi.spyOn(ChatClient.prototype, 'request');
    const claimsOfCarol = () => asked.mock.calls.filter(([type, params]) => type === 'keyPackagesClaim' && (params as { user: string }).user === 'carol').length;
    for (const text of ['secret-one', 'secret-two', 'secret-three']) await sent(alice.events, unwrap(await alice.core.send(toGroup, text)).clientMsgId);
    await received(bob.events, 'secret-three');
    expect(claimsOfCarol()).toBe(0);

    // carol's app comes: its first upload tells the members, whose apps add her; nobody else writes.
    unwrap(await carol.core.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    const mine = unwrap(await carol.core.send(toGroup, 'secret-carol-writes'));
    expect((await sent(carol.events, mine.clientMsgId)).status).toBe('sent');
    await received(alice.events, 'secret-carol-writes');
    await received(bob.events, 'secret-carol-writes');
  });

  it("a user's second app is added to the DMs and groups of their first, without a message: it reads what comes and writes at once", async () => {
    const { alice, bob, port, toGroup, toBob } = await aliceAndBobInAGroupAndADm();

    // bob's laptop: its first upload tells alice's app, which adds it to the group and the DM.
    const laptop = newCore();
    unwrap(await laptop.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    for (const [to, text] of [[{ kind: 'dm', user: 'alice' }, 'secret-laptop-to-alice'], [toGroup, 'secret-laptop-to-group']] as const) {
      const mine = unwrap(await laptop.core.send(to, text));
      expect((await sent(laptop.events, mine.clientMsgId)).status).toBe('sent');
      await received(alice.events, text);
    }
    for (const [to, text] of [[toGroup, 'secret-group-after'], [toBob, 'secret-dm-after']] as const) {
      await sent(alice.events, unwrap(await alice.core.send(to, text)).clientMsgId);
      await received(laptop.events, text);
      await received(bob.events, text);
    }
    expect(alice.events).toContainEqual(expect.objectContaining({ type: 'e2eeNotice', kind: 'devicesChanged', users: ['bob'] }));
  });

  it("adding a user's new app to their DM and group spends no key package of the apps already there", async () => {
    const { alice, bob, port, toGroup } = await aliceAndBobInAGroupAndADm();
    // Each package by its id: an app tops its packages up as soon as a claim leaves fewer than 10, so a count would not tell.
    const held = (): string[] =>
      readHost(alice.dir, (host) => host.prepare<[], string>("SELECT device_id || ':' || id FROM mls_key_packages ORDER BY id").pluck().all());
    const before = held();

    // Both alice's app and bob's first one hear of the laptop; one adds it to each conversation, claiming the laptop's packages only.
    const laptop = newCore();
    unwrap(await laptop.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    for (const [to, text] of [[{ kind: 'dm', user: 'alice' }, 'secret-laptop-to-alice'], [toGroup, 'secret-laptop-to-group']] as const) {
      expect((await sent(laptop.events, unwrap(await laptop.core.send(to, text)).clientMsgId)).status).toBe('sent');
      await received(alice.events, text);
      await received(bob.events, text);
    }
    expect(before.filter((key) => !held().includes(key))).toEqual([]);
  });

  it("a user's new app is added by their other app while the other user is away, and writes to them at once", async () => {
    const { bob, carol, port } = await bobWritesToCarol();
    unwrap(await carol.core.leave());

    const laptop = newCore();
    unwrap(await laptop.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    const mine = unwrap(await laptop.core.send({ kind: 'dm', user: 'carol' }, 'secret-from-the-laptop'));
    expect((await sent(laptop.events, mine.clientMsgId)).status).toBe('sent');
    unwrap(await carol.core.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    await received(carol.events, 'secret-from-the-laptop');
    await received(bob.events, 'secret-from-the-laptop');
    // Never silent: bob's first app says his devices changed, as carol's does.
    for (const app of [bob, carol]) expect(app.events).toContainEqual(expect.objectContaining({ type: 'e2eeNotice', kind: 'devicesChanged', users: ['bob'] }));
  });

  it("a user's new app, with nobody online to add it to a DM, waits to be added, saying so and claiming nobody's key packages, until an app of the DM comes back and adds it", async () => {
    const { bob, carol, hosting, port } = await bobWritesToCarol();
    for (const app of [bob, carol]) unwrap(await app.core.leave());

    // A session of bob's hears when the host names the laptop to those it tells (PROTOCOL §20.3): carol is not there then.
    const bobElsewhere = await login({ address: { port } }, 'bob', 'bob-secret', { tls: true, fingerprint: hosting.fingerprint! });
    cleanups.push(() => bobElsewhere.close());
    const told = nextEvent(bobElsewhere, 'deviceReady', (push) => push.user === 'bob');
    const asked = vi.spyOn(ChatClient.prototype, 'request');
    const laptop = newCore();
    unwrap(await laptop.core.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    await told;
    const { clientMsgId } = unwrap(await laptop.core.send({ kind: 'dm', user: 'carol' }, 'secret-from-the-laptop'));
    const waiting = () => laptop.events.find((event) => event.type === 'outbox' && event.clientMsgId === clientMsgId && event.error !== undefined);
    await waitFor(() => waiting() !== undefined, 'the laptop to say why its DM waits');
    expect(waiting()).toMatchObject({ status: 'queued', error: { code: 'E2EE_WAITING', message: expect.stringContaining('This device is not in the conversation’s encryption yet') } });
    expect((waiting() as { error: { waitingFor?: string[] } }).error.waitingFor).toBeUndefined();
    expect(asked.mock.calls.filter(([type]) => type === 'keyPackagesClaim')).toEqual([]);

    // carol's app missed the push that named the laptop: it finds the laptop missing from the DM's group as it starts.
    unwrap(await carol.core.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    await received(carol.events, 'secret-from-the-laptop');
    expect((await sent(laptop.events, clientMsgId)).status).toBe('sent');
    await sent(carol.events, unwrap(await carol.core.send({ kind: 'dm', user: 'bob' }, 'secret-to-both-apps')).clientMsgId);
    await received(laptop.events, 'secret-to-both-apps');
  });

  it('quits only once the device has saved what it was doing: no file of the profile changes after', async () => {
    const alice = newCore();
    const bob = newCore();
    await hostedRoom(alice.core, bob.core);
    const text = 'secret-as-bob-quits';
    // The message is shown from inside the device's work on its frame, which saves the device after it.
    let quitting: Promise<void> | undefined;
    bob.core.onEvent((event) => {
      if (event.type === 'message' && event.message.text === text) quitting ??= bob.core.shutdown();
    });
    unwrap(await alice.core.send({ kind: 'dm', user: 'bob' }, text));
    await waitFor(() => quitting !== undefined, 'bob to get it');
    await quitting;
    const files = (): string[] =>
      readdirSync(bob.dir, { recursive: true, encoding: 'utf8' })
        .flatMap((name) => {
          const stat = statSync(join(bob.dir, name));
          return stat.isFile() ? [`${name} ${stat.size} ${stat.mtimeMs}`] : [];
        })
        .sort();
    const after = files();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(files()).toEqual(after);
  });

  it('a DM to someone whose client has no device (an older one) waits, saying so, and is never sent in plain', async () => {
    const alice = newCore();
    const { hosting } = unwrap(await alice.core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
    const fingerprint = hosting!.fingerprint;
    const bob = await login({ address: { port: hosting!.port } }, 'bob', 'bob-secret', fingerprint === null ? { tls: false } : { tls: true, fingerprint });
    cleanups.push(() => bob.close());
    unwrap(await alice.core.chatRequest('bob'));
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    const { clientMsgId } = unwrap(await alice.core.send({ kind: 'dm', user: 'bob' }, 'never-in-plain'));
    const outbox = () => alice.events.filter((event) => event.type === 'outbox' && event.clientMsgId === clientMsgId);
    await waitFor(() => outbox().length > 1);
    expect(outbox()).toMatchObject([{ status: 'queued' }, { status: 'queued', error: { code: 'E2EE_WAITING' } }]);
    expect(filesHolding(join(alice.dir, 'host'), 'never-in-plain')).toEqual([]);
  });
});
