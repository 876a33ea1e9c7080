import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { E2EE_LIMITS, type MlsFrame } from '../../src-shared/protocol/e2ee.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { createDevice, createGroup, createKeyPackage, addMembers, encrypt, signatureKeys } from '../crypto/mls.js';
import { waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import type { ChatClient } from './client.js';
import { ClientError } from './errors.js';
import { type DecryptedMessage, type DevicesChanged, EncryptedChats } from './e2ee.js';
import { KEPT } from './e2ee-key-packages.js';
import { DeviceStore, KEY_FILE, SEALED_KEY_FILE, deviceStoreKey } from './e2ee-store.js';

/** Resolves with the next event of `name` that `match` accepts. */
function next<T>(chats: EncryptedChats, name: 'message' | 'joined' | 'dropped' | 'removed' | 'devicesChanged', match: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (value: T): void => {
      if (!match(value)) return;
      chats.off(name, listener as never);
      resolve(value);
    };
    chats.on(name, listener as never);
  });
}

const textOf = (text: string) => (message: DecryptedMessage) => message.text === text;

/** The mls pushes a client receives, as the host sent them. */
function recordFrames(client: ChatClient): MlsFrame[] {
  const frames: MlsFrame[] = [];
  client.on('mls', (push) => frames.push(push.frame));
  return frames;
}

/**
 * What a host that misbehaves does with its own database: registers a device in `client`'s user's name,
 * with a key of its own, and offers a key package of it to whoever claims that user.
 */
async function hostsDevice(client: ChatClient) {
  const deviceId = randomBytes(16).toString('hex');
  const keys = await signatureKeys();
  const { userId } = await client.request('deviceRegister', { deviceId, signatureKey: Buffer.from(keys.publicKey).toString('base64') });
  const device = await createDevice(userId, deviceId, keys);
  await client.request('keyPackagesUpload', { deviceId, keyPackages: [Buffer.from((await createKeyPackage(device)).encoded).toString('base64')] });
  return device;
}

/** How many key packages of `chats`' device the host holds (registering the same device again says so). */
async function keyPackagesHeld(client: ChatClient, chats: EncryptedChats): Promise<number> {
  return (await client.request('deviceRegister', { deviceId: chats.id.deviceId, signatureKey: Buffer.from(chats['device'].signaturePublicKey).toString('base64') })).keyPackages;
}

/** Whether the host's database file or its WAL holds the text, in UTF-8. */
function hostHolds(dir: string, text: string): boolean {
  const needle = Buffer.from(text);
  return ['chat.sqlite', 'chat.sqlite-wal'].some((name) => existsSync(join(dir, name)) && readFileSync(join(dir, name)).includes(needle));
}

describe('end-to-end encrypted conversations through a real host', () => {
  const room = useRoom();
  afterEach(() => vi.restoreAllMocks());

  it('two users, one with a second device, exchange DM and group messages the host stores but cannot read; a removed member cannot read on', async () => {
    await room.start();
    const [alice, bob, bobPhone, carol] = [await room.user('alice'), await room.user('bob'), await room.user('bob'), await room.user('carol')];
    const [a, b, b2, c] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob), await EncryptedChats.start(bobPhone), await EncryptedChats.start(carol)];

    // A DM: alice makes its group with both of bob's devices.
    const dm = dmConversation(a.id.userId, b.id.userId);
    const joined = [next(b, 'joined'), next(b2, 'joined')];
    await a.create(dm, ['bob']);
    await Promise.all(joined);
    expect(a.members(dm)!.map((id) => id.deviceId).sort()).toEqual([a.id.deviceId, b.id.deviceId, b2.id.deviceId].sort());

    const atBob = [next<DecryptedMessage>(b, 'message'), next<DecryptedMessage>(b2, 'message')];
    await a.send(dm, 'secret-dm-from-alice');
    for (const got of await Promise.all(atBob)) expect([got.text, got.sender]).toEqual(['secret-dm-from-alice', a.id]);
    const replies = [next<DecryptedMessage>(a, 'message'), next<DecryptedMessage>(b, 'message')];
    await b2.send(dm, 'secret-reply-from-bobs-phone');
    for (const got of await Promise.all(replies)) expect([got.text, got.sender]).toEqual(['secret-reply-from-bobs-phone', b2.id]);

    // A group of the three, on the host and in MLS.
    const { group } = await alice.request('groupCreate', { name: 'team', members: ['bob', 'carol'] });
    for (const member of [bob, carol]) await member.request('groupAnswer', { groupId: group.id, accept: true });
    const conv = groupConversation(group.id);
    const joinedGroup = [next(b, 'joined'), next(b2, 'joined'), next(c, 'joined')];
    await a.create(conv, ['bob', 'carol']);
    await Promise.all(joinedGroup);
    const everyone = [next<DecryptedMessage>(a, 'message'), next<DecryptedMessage>(b, 'message'), next<DecryptedMessage>(b2, 'message')];
    await c.send(conv, 'secret-group-from-carol');
    for (const got of await Promise.all(everyone)) expect([got.text, got.sender]).toEqual(['secret-group-from-carol', c.id]);

    // Carol removed: on the host first (she can post nothing more), then from the MLS group.
    const bobsFrames = recordFrames(bob);
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'carol' });
    await expect(c.send(conv, 'still here?')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    await a.removeUsers(conv, [c.id.userId]);
    expect(a.members(conv)!.map((id) => id.userId)).not.toContain(c.id.userId);
    const afterRemoval = next<DecryptedMessage>(b, 'message', textOf('secret-after-carol-left'));
    await a.send(conv, 'secret-after-carol-left');
    expect((await afterRemoval).sender).toEqual(a.id);
    // The host sends carol none of it; given the frame anyway, in her group's next place, she cannot open it.
    const secret = bobsFrames.find((frame) => frame.kind === 'application' && frame.conv === conv)!;
    const carolsNext = (await carol.request('mlsSync', { after: 0 })).frames.filter((frame) => frame.conv === conv);
    expect(carolsNext).toEqual([]);
    const dropped = next<{ seq: number }>(c, 'dropped');
    const shown: DecryptedMessage[] = [];
    c.on('message', (message) => shown.push(message));
    await c.receive({ ...secret, seq: 3 });
    expect((await dropped).seq).toBe(3);
    expect(shown).toEqual([]);

    // The host holds the frames, and none of the texts: a plain message's text it does hold, as a check of the search.
    await alice.send({ kind: 'room' }, 'plain-room-text-the-host-reads');
    const frames = (await alice.request('mlsSync', { after: 0, limit: 200 })).frames;
    expect(frames.filter((frame) => frame.kind === 'application')).toHaveLength(4);
    expect(hostHolds(room.dir, 'plain-room-text-the-host-reads')).toBe(true);
    for (const text of ['secret-dm-from-alice', 'secret-reply-from-bobs-phone', 'secret-group-from-carol', 'secret-after-carol-left', 'secret']) {
      expect(hostHolds(room.dir, text)).toBe(false);
    }
  });

  it('a host that replays, rewrites or forges a frame cannot make a message display; one that loses a frame delays it only', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    const dm = dmConversation(a.id.userId, b.id.userId);
    const joined = next(b, 'joined');
    await a.create(dm, ['bob']);
    await joined;
    // From here bob's device reads only what the test hands it: the host's frames, as a misbehaving host may change them.
    b.close();
    const frames = recordFrames(bob);
    const pushed = (count: number) => new Promise<void>((resolve) => bob.on('mls', () => frames.length >= count && resolve()));
    const twoPushed = pushed(2);
    await a.send(dm, 'the real one');
    await a.send(dm, 'the second one');
    await twoPushed;
    const [real, second] = frames as [MlsFrame, MlsFrame];

    const shown: DecryptedMessage[] = [];
    const dropped: number[] = [];
    b.on('message', (message) => shown.push(message));
    b.on('dropped', (drop) => dropped.push(drop.seq));
    // The second comes first, as if the first were lost or overtaken: the device fetches the first from the host and shows both in order.
    await b.receive(second);
    expect(shown.map((message) => message.text)).toEqual(['the real one', 'the second one']);
    let seq = second.seq;
    const asNew = (frame: MlsFrame, data = frame.data): MlsFrame => ({ ...frame, id: frame.id + 100 + seq, seq: ++seq, data });
    // The same frame again, then again in a new place as if it were another message.
    await b.receive(real);
    await b.receive(asNew(real));
    // Its bytes changed: in the clear header, and in the ciphertext.
    for (const at of [10, -1]) {
      const data = Buffer.from(real.data, 'base64');
      const index = at < 0 ? data.length + at : at;
      data[index] = data[index]! ^ 1;
      await b.receive(asNew(real, data.toString('base64')));
    }
    // A message of a group the host made itself, under the same group id and at the same epoch, signed by a device it made in alice's name.
    const hostDevice = await createDevice(a.id.userId, 'f'.repeat(32));
    const hostsGroup = await createGroup(hostDevice, new TextEncoder().encode(dm));
    const hostAt1 = (await addMembers(hostsGroup, [(await createKeyPackage(await createDevice(9, 'e'.repeat(32)))).encoded])).group;
    const forged = await encrypt(hostAt1, new TextEncoder().encode('trust me'));
    await b.receive(asNew(real, Buffer.from(forged.message).toString('base64')));
    expect(shown.map((message) => message.text)).toEqual(['the real one', 'the second one']);
    expect(dropped).toEqual([second.seq + 1, second.seq + 2, second.seq + 3, second.seq + 4]);

    // The host's `from` is not who a message is shown from: the signature's device is.
    const thirdPushed = pushed(3);
    await a.send(dm, 'the third one');
    await thirdPushed;
    await b.receive({ ...asNew(frames[2]!), from: 'mallory', fromDevice: 'd'.repeat(32) });
    expect(shown.at(-1)).toMatchObject({ text: 'the third one', sender: a.id });
  });

  it('two devices creating the same DM at once: one commit wins, the other device drops its group and joins the winner', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    const dm = dmConversation(a.id.userId, b.id.userId);
    await Promise.all([a.create(dm, ['bob']), b.create(dm, ['alice'])]);
    expect(a.members(dm)).toEqual(b.members(dm));
    const atBob = next<DecryptedMessage>(b, 'message');
    await a.send(dm, 'after the race');
    expect((await atBob).text).toBe('after the race');
    const atAlice = next<DecryptedMessage>(a, 'message');
    await b.send(dm, 'and back');
    expect((await atAlice).text).toBe('and back');
  });

  it('two members adding at once: the loser gets EPOCH_TAKEN, takes the winning commit and adds again on the new epoch', async () => {
    await room.start();
    const clients = [await room.user('alice'), await room.user('bob'), await room.user('carol'), await room.user('dave')];
    const [a, b, c, d] = await Promise.all(clients.map((client) => EncryptedChats.start(client)));
    const { group } = await clients[0]!.request('groupCreate', { name: 'race', members: ['bob', 'carol', 'dave'] });
    for (const member of clients.slice(1)) await member.request('groupAnswer', { groupId: group.id, accept: true });
    const conv = groupConversation(group.id);
    const bobJoined = next(b!, 'joined');
    await a!.create(conv, ['bob']);
    await bobJoined;
    const joined = [next(c!, 'joined'), next(d!, 'joined')];
    await Promise.all([a!.add(conv, ['carol']), b!.add(conv, ['dave'])]);
    await Promise.all(joined);
    const ids = (chats: EncryptedChats) => chats.members(conv)!.map((id) => id.userId).sort();
    expect(ids(a!)).toEqual([a!, b!, c!, d!].map((chats) => chats.id.userId).sort());
    for (const chats of [b!, c!, d!]) expect(ids(chats)).toEqual(ids(a!));
    const got = [b!, c!, d!].map((chats) => next<DecryptedMessage>(chats, 'message'));
    await a!.send(conv, 'all four');
    for (const message of await Promise.all(got)) expect(message.text).toBe('all four');
  });

  it("making a group spends none of the maker's own key packages: the maker's other device is claimed by its id alone", async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    // The one-time packages whose keys the device keeps, by their last characters: a package spent leaves the list.
    const kept = (chats: EncryptedChats) =>
      chats['bundles']
        .save()
        .filter((bundle) => !bundle.lastResort)
        .map((bundle) => bundle.encoded.slice(-16));
    const spent = (before: string[]) => before.filter((bundle) => !kept(a).includes(bundle));
    const before = kept(a);
    const first = dmConversation(a.id.userId, b.id.userId);
    const bobJoined = next(b, 'joined');
    await a.create(first, ['bob']);
    await bobJoined;
    expect(spent(before)).toEqual([]);

    // alice's laptop: the next group alice's first device makes adds it, spending one of the laptop's packages only.
    const laptop = await EncryptedChats.start(await room.user('alice'));
    const { group } = await alice.request('groupCreate', { name: 'plans', members: ['bob'] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const joined = [next(b, 'joined'), next(laptop, 'joined')];
    await a.create(groupConversation(group.id), ['bob']);
    await Promise.all(joined);
    expect(a.members(groupConversation(group.id))!.map((id) => id.deviceId).sort()).toEqual([a.id.deviceId, b.id.deviceId, laptop.id.deviceId].sort());
    expect(spent(before)).toEqual([]);
  });

  it("from an older host, without deviceList, making a group still adds the maker's other device, claiming the user whole", async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b, laptop] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob), await EncryptedChats.start(await room.user('alice'))];
    // As a host from before deviceList answers it.
    const request = alice.request.bind(alice);
    vi.spyOn(alice, 'request').mockImplementation(((type: string, body: unknown) =>
      type === 'deviceList' ? Promise.reject(new ClientError(ErrorCode.UNKNOWN_TYPE, 'unknown frame type "deviceList"')) : request(type as never, body as never)) as typeof alice.request);
    const conv = dmConversation(a.id.userId, b.id.userId);
    const joined = [next(b, 'joined'), next(laptop, 'joined')];
    await a.create(conv, ['bob']);
    await Promise.all(joined);
    expect(a.members(conv)!.map((id) => id.deviceId).sort()).toEqual([a.id.deviceId, b.id.deviceId, laptop.id.deviceId].sort());
  });

  it('a device added to more conversations in one session than it had key packages stays reachable: each welcome tops them up, and making as many spends none', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    const before = await keyPackagesHeld(bob, b);
    for (let index = 0; index < before + 2; index++) {
      const { group } = await alice.request('groupCreate', { name: `group ${index}`, members: ['bob'] });
      await bob.request('groupAnswer', { groupId: group.id, accept: true });
      const joined = next(b, 'joined');
      await a.create(groupConversation(group.id), ['bob']);
      await joined;
    }
    const toppedUp = () => waitFor(async () => (await keyPackagesHeld(bob, b)) >= before, `bob's device to hold ${before} key packages on the host again`);
    await toppedUp();

    // Making a conversation's group claims the maker's other devices by id (it has none here): its own packages stay.
    for (let index = 0; index < before + 2; index++) {
      const { group } = await bob.request('groupCreate', { name: `bob's ${index}`, members: ['alice'] });
      await alice.request('groupAnswer', { groupId: group.id, accept: true });
      const joined = next(a, 'joined');
      await b.create(groupConversation(group.id), ['alice']);
      await joined;
    }
    await toppedUp();
    // The private keys kept are those of the packages the host still holds: none of a package spent stays behind.
    // Besides them, the last-resort packages: each upload brought one, and a welcome for one may come late.
    const kept = b['bundles'].save();
    expect(kept.filter((bundle) => !bundle.lastResort)).toHaveLength(before);
    expect(kept.at(-1)!.lastResort).toBe(true);
  });

  it("a device whose key packages someone else claims and never uses is topped up at once, not at its next start; it keeps the keys of the newest hundred", async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const b = await EncryptedChats.start(bob);
    const held = await keyPackagesHeld(bob, b);
    expect(held).toBe(E2EE_LIMITS.keepKeyPackages);
    for (let round = 0; round * held <= KEPT; round++) {
      // Every package the host holds, claimed: before, bob's device stayed unreachable until his app started again.
      for (let i = 0; i < held; i++) expect((await alice.request('keyPackagesClaim', { user: 'bob' })).devices[0]!.keyPackage).toBeDefined();
      await waitFor(async () => (await keyPackagesHeld(bob, b)) === held, `bob's device to hold ${held} key packages again`);
    }
    expect(b['bundles'].size).toBe(KEPT);
    // The keys kept are the newest: a welcome for a package the host holds still opens.
    const { group } = await alice.request('groupCreate', { name: 'after', members: ['bob'] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const a = await EncryptedChats.start(alice);
    const joined = next(b, 'joined');
    await a.create(groupConversation(group.id), ['bob']);
    await joined;
  });

  it("a device whose key packages were all taken while its app was closed is still added, with its last-resort package, to any number of groups; back, it opens each welcome and replaces that package", async () => {
    await room.start();
    const profile = join(room.dir, 'bob-profile');
    mkdirSync(profile);
    const store = () => new DeviceStore(join(profile, 'device.lanchat'), deviceStoreKey(profile));
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const b = await EncryptedChats.start(bob, { store: store() });
    const held = await keyPackagesHeld(bob, b);
    b.close();
    bob.close();
    // Claims nobody uses (a member who means harm) take every other package: before, nobody could add bob's device then.
    const claim = async () => (await alice.request('keyPackagesClaim', { user: 'bob' })).devices[0]!;
    for (let i = 0; i < held; i++) expect((await claim()).lastResort).toBeUndefined();
    const lastResort = await claim();
    expect(lastResort).toMatchObject({ deviceId: b.id.deviceId, lastResort: true });
    // bob accepts the groups from a client that is no device of his.
    const bobElsewhere = await room.user('bob');
    const a = await EncryptedChats.start(alice);
    const convs: string[] = [];
    for (const name of ['one', 'two']) {
      const { group } = await alice.request('groupCreate', { name, members: ['bob'] });
      await bobElsewhere.request('groupAnswer', { groupId: group.id, accept: true });
      const conv = groupConversation(group.id);
      await a.create(conv, ['bob']);
      expect(a.members(conv)!.map((id) => id.deviceId)).toContain(b.id.deviceId);
      await a.send(conv, `written in ${name} while bob was away`);
      convs.push(conv);
    }

    const bobBack = await room.user('bob');
    const back = await EncryptedChats.start(bobBack, { store: store(), catchUp: false });
    const read: string[] = [];
    back.on('message', (message) => read.push(message.text));
    await back.catchUp();
    expect(read).toEqual(['written in one while bob was away', 'written in two while bob was away']);
    for (const conv of convs) expect(back.members(conv)).toEqual(a.members(conv));
    // A welcome opens once, a last-resort one too: fetched again (a catch-up from an older cursor, or a host
    // that replays it), it neither takes the device back to the epoch it was made in nor shows the messages after it again.
    const welcomes = (await bobBack.request('mlsSync', { after: 0, limit: 100 })).frames.filter((frame) => frame.welcome !== undefined);
    expect(welcomes).toHaveLength(2);
    const joinedAgain: unknown[] = [];
    back.on('joined', (joined) => joinedAgain.push(joined));
    for (const frame of welcomes) await back.receive(frame);
    const after = next<DecryptedMessage>(back, 'message');
    await a.send(convs[0]!, 'after the replay');
    expect((await after).text).toBe('after the replay');
    expect(joinedAgain).toEqual([]);
    expect(read).toEqual(['written in one while bob was away', 'written in two while bob was away', 'after the replay']);
    // Its start uploaded more, and another last-resort package: the one handed out before is not handed out again.
    back.close();
    bobBack.close();
    for (let i = 0; i < held; i++) expect((await claim()).lastResort).toBeUndefined();
    const replaced = await claim();
    expect(replaced.lastResort).toBe(true);
    expect(replaced.keyPackage).not.toBe(lastResort.keyPackage);
  });

  it('to a host older than last-resort key packages (its deviceRegister says nothing of them) a device uploads none, which that host would refuse', async () => {
    await room.start();
    const store = room.host.store;
    const [register, add] = [store.registerDevice.bind(store), store.addKeyPackages.bind(store)];
    store.registerDevice = async (...args) => {
      const answer = await register(...args);
      if ('refused' in answer) return answer;
      const { lastResort: _, ...older } = answer;
      return older as typeof answer;
    };
    const lastResorts: unknown[] = [];
    store.addKeyPackages = (...args) => {
      lastResorts.push(args[4]);
      return add(...args);
    };
    const bob = await room.user('bob');
    const b = await EncryptedChats.start(bob);
    expect(await keyPackagesHeld(bob, b)).toBe(E2EE_LIMITS.keepKeyPackages);
    expect(lastResorts).toEqual([undefined]);
    expect(b['bundles'].save().some((bundle) => bundle.lastResort)).toBe(false);
  });

  it('claims a few users at a time, and a claim that fails stops those not asked yet, whose packages stay', async () => {
    await room.start();
    const alice = await room.user('alice');
    const a = await EncryptedChats.start(alice);
    const names = Array.from({ length: 10 }, (_, index) => `user${index}`);
    const clients = await Promise.all(names.map((name) => room.user(name)));
    const devices = await Promise.all(clients.map((client) => EncryptedChats.start(client)));
    const held = await Promise.all(clients.map((client, index) => keyPackagesHeld(client, devices[index]!)));
    expect(held).toEqual(names.map(() => E2EE_LIMITS.keepKeyPackages));
    // The last one's app uploads no more meanwhile: what it holds says whether it was claimed.
    devices[9]!.close();
    // Nobody by that name: the claims after it that were not under way yet are not made.
    await expect(a.trust.claim(alice, ['nobody', ...names])).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
    expect(await keyPackagesHeld(clients[9]!, devices[9]!)).toBe(E2EE_LIMITS.keepKeyPackages);
    // Answers are taken in the users' order, whichever came first.
    const claimed = await a.trust.claim(alice, names);
    expect(claimed.map((device) => device.user)).toEqual(names);
  });

  it('a device that lost the race to make a group waits for its welcome: trying to write again makes no group and spends no key package of anyone', async () => {
    await room.start();
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const [a, b, c] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob), await EncryptedChats.start(carol)];
    const { group } = await alice.request('groupCreate', { name: 'team', members: ['bob', 'carol'] });
    for (const member of [bob, carol]) await member.request('groupAnswer', { groupId: group.id, accept: true });
    const conv = groupConversation(group.id);
    const bobJoined = next(b, 'joined');
    await a.create(conv, ['bob']);
    await bobJoined;

    // carol's first try finds the group made (the host refuses her epoch); her later ones are not tries again.
    await c.create(conv, ['alice']);
    expect(c.members(conv)).toBeUndefined();
    const held = [await keyPackagesHeld(alice, a), await keyPackagesHeld(bob, b)];
    for (let again = 0; again < 3; again++) await c.create(conv, ['alice', 'bob']);
    expect([await keyPackagesHeld(alice, a), await keyPackagesHeld(bob, b)]).toEqual(held);
    expect(c.members(conv)).toBeUndefined();

    // Once a member adds her, she is in that group.
    const carolJoined = next(c, 'joined');
    await a.add(conv, ['carol']);
    await carolJoined;
    expect(c.members(conv)!.map((id) => id.userId).sort()).toEqual([a, b, c].map((chats) => chats.id.userId).sort());
  });

  it("a device the host adds in bob's name changes the safety number on both sides and shows at every device; a forged commit shows nothing", async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    const dm = dmConversation(a.id.userId, b.id.userId);
    const joined = next(b, 'joined');
    await a.create(dm, ['bob']);
    await joined;

    // Both sides compute one number, from what each saw itself; alice compares it with bob and marks him verified.
    const before = await a.trust.safetyNumber(b.id.userId);
    expect(before.digits).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(await b.trust.safetyNumber(a.id.userId)).toEqual(before);
    expect(await a.trust.matchesSafetyCode(b.id.userId, before.code)).toBe(true);
    expect(a.trust.verification(b.id.userId)).toBe('unverified');
    await a.markVerified(b.id.userId);
    expect(a.trust.verification(b.id.userId)).toBe('verified');
    const changes: DevicesChanged[] = [];
    a.on('devicesChanged', (change) => changes.push(change));
    b.on('devicesChanged', (change) => changes.push(change));

    // The host registers a device in bob's name and offers it; alice's device adds it as one of bob's, as any client would.
    const rogue = await hostsDevice(await room.user('bob'));
    const atBob = next<DevicesChanged>(b, 'devicesChanged');
    const atAlice = next<DevicesChanged>(a, 'devicesChanged');
    await a.add(dm, ['bob']);
    const expected = { userId: b.id.userId, added: [rogue.id], removed: [], conversations: [dm] };
    expect(await atAlice).toEqual(expected);
    // Bob's own device sees a device added in his name: the host cannot keep it from him and still have him read the conversation.
    expect(await atBob).toEqual(expected);
    expect(changes).toEqual([expected, expected]);
    const after = await a.trust.safetyNumber(b.id.userId);
    expect(after.digits).not.toBe(before.digits);
    expect(await b.trust.safetyNumber(a.id.userId)).toEqual(after);
    expect(await a.trust.matchesSafetyCode(b.id.userId, before.code)).toBe(false);
    expect(a.trust.verification(b.id.userId)).toBe('changed');
    expect(a.trust.devices(b.id.userId).map((device) => device.deviceId)).toContain(rogue.id.deviceId);

    // A forged commit adding another device in bob's name (from a group the host made under this group id, at this epoch): dropped, nothing changes.
    b.close();
    const hostDevice = await createDevice(b.id.userId, 'f'.repeat(32));
    let hostsGroup = await createGroup(hostDevice, new TextEncoder().encode(dm));
    for (const n of [8, 9]) hostsGroup = (await addMembers(hostsGroup, [(await createKeyPackage(await createDevice(n, String(n).repeat(32)))).encoded])).group;
    const forged = await addMembers(hostsGroup, [(await createKeyPackage(await createDevice(b.id.userId, 'c'.repeat(32)))).encoded]);
    const dropped = next<{ seq: number }>(b, 'dropped');
    await b.receive({ id: 1000, conv: dm, seq: 3, epoch: 2, kind: 'commit', from: 'alice', fromDevice: a.id.deviceId, ts: 1, data: Buffer.from(forged.commit).toString('base64') });
    expect((await dropped).seq).toBe(3);
    expect(b.members(dm)!.map((id) => id.deviceId).sort()).toEqual([a.id.deviceId, b.id.deviceId, rogue.id.deviceId].sort());
    expect(await b.trust.safetyNumber(a.id.userId)).toEqual(after);
    expect(changes).toHaveLength(2);
  });

  it('a device kept in an encrypted store comes back after a restart and reads on; the file holds no key in clear; a wrong key says so', async () => {
    await room.start();
    const profile = join(room.dir, 'alice-profile');
    mkdirSync(profile);
    const key = deviceStoreKey(profile);
    expect(statSync(join(profile, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(deviceStoreKey(profile)).toEqual(key);
    const file = join(profile, 'device.lanchat');
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const a = await EncryptedChats.start(alice, { store: new DeviceStore(file, key) });
    const b = await EncryptedChats.start(bob);
    const dm = dmConversation(a.id.userId, b.id.userId);
    const joined = next(b, 'joined');
    await a.create(dm, ['bob']);
    await joined;
    const atBob = next<DecryptedMessage>(b, 'message');
    await a.send(dm, 'before-the-restart');
    await atBob;
    await a.markVerified(b.id.userId);
    const number = await a.trust.safetyNumber(b.id.userId);

    // On disk: none of the device's private keys, in bytes, base64 or hex, and none of the text.
    const onDisk = readFileSync(file);
    const secrets = [a.device.signaturePrivateKey, a.device.signaturePrivateKey.subarray(0, 16), a.device.signaturePublicKey];
    for (const secret of secrets) {
      for (const form of [Buffer.from(secret), Buffer.from(Buffer.from(secret).toString('base64')), Buffer.from(Buffer.from(secret).toString('hex'))]) expect(onDisk.includes(form)).toBe(false);
    }
    expect(onDisk.includes(Buffer.from('before-the-restart'))).toBe(false);
    expect(onDisk.includes(key)).toBe(false);

    // The app stops; meanwhile bob writes. It starts again, from the file: the same device, in the same group, reading and sending.
    a.close();
    alice.close();
    await b.send(dm, 'while-alice-was-away');
    const store = new DeviceStore(file, deviceStoreKey(profile));
    // catchUp: false, so that what it catches up on is heard by the listener set before it does.
    const restored = await EncryptedChats.start(await room.user('alice'), { store, catchUp: false });
    const caughtUp = next<DecryptedMessage>(restored, 'message');
    await restored.catchUp();
    expect(await caughtUp).toMatchObject({ text: 'while-alice-was-away', sender: b.id });
    expect(restored.id).toEqual(a.id);
    expect(restored.members(dm)).toEqual(b.members(dm));
    expect(restored.trust.verification(b.id.userId)).toBe('verified');
    expect(await restored.trust.safetyNumber(b.id.userId)).toEqual(number);
    const atAlice = next<DecryptedMessage>(restored, 'message', textOf('after-the-restart'));
    await b.send(dm, 'after-the-restart');
    expect((await atAlice).sender).toEqual(b.id);
    const reply = next<DecryptedMessage>(b, 'message', textOf('alice-is-back'));
    await restored.send(dm, 'alice-is-back');
    expect((await reply).sender).toEqual(a.id);

    // Another key, or another account's login, is refused with a reason.
    await expect(new DeviceStore(file, randomBytes(32)).load()).rejects.toThrow(/could not be decrypted: it was saved with another key/);
    await expect(EncryptedChats.start(await room.user('carol'), { store })).rejects.toThrow(/the device store is alice's device, and this login is carol's/);
    chmodSync(join(profile, KEY_FILE), 0o644);
    expect(() => deviceStoreKey(profile)).toThrow(/may be read by other users/);

    // With a keychain (the shells pass theirs), the key is kept sealed by it, never in clear.
    const sealer = { seal: (text: string) => Buffer.from(text).reverse().toString('base64'), open: (sealed: string) => Buffer.from(sealed, 'base64').reverse().toString() };
    const sealedProfile = join(room.dir, 'sealed-profile');
    mkdirSync(sealedProfile);
    const sealedKey = deviceStoreKey(sealedProfile, sealer);
    expect(existsSync(join(sealedProfile, KEY_FILE))).toBe(false);
    expect(readFileSync(join(sealedProfile, SEALED_KEY_FILE), 'utf8').includes(sealedKey.toString('hex'))).toBe(false);
    expect(deviceStoreKey(sealedProfile, sealer)).toEqual(sealedKey);
    expect(() => deviceStoreKey(sealedProfile, { ...sealer, open: () => { throw new Error('not ours'); } })).toThrow(/could not be unsealed/);
  });
});
