import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { E2EE_ID_BASE } from '../../../src-shared/e2ee-app.js';
import { dmConversation } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { addMembers, createDevice, createGroup, createKeyPackage, encrypt, signatureKeys } from '../../crypto/mls.js';
import { nextEvent, waitFor } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';
import type { ChatClient } from '../../client/client.js';

const base64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');

/** Registers a new device of the client's user; its keys and id. */
async function registered(client: ChatClient) {
  const deviceId = randomBytes(16).toString('hex');
  const keys = await signatureKeys();
  const { userId } = await client.request('deviceRegister', { deviceId, signatureKey: base64(keys.publicKey) });
  return createDevice(userId, deviceId, keys);
}

describe('the e2ee handlers refuse what is not what it claims, and change nothing', () => {
  const room = useRoom();

  it('checks devices, key packages and the clear envelope of frames', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const device = await registered(alice);
    const bobDevice = await registered(bob);
    const signatureKey = base64(device.signaturePublicKey);

    await expect(alice.request('deviceRegister', { deviceId: device.id.deviceId, signatureKey: base64(bobDevice.signaturePublicKey) })).rejects.toMatchObject({
      code: ErrorCode.DEVICE_TAKEN,
    });
    expect(await alice.request('deviceRegister', { deviceId: device.id.deviceId, signatureKey })).toEqual({ userId: device.id.userId, keyPackages: 0, lastResort: false });

    // A key package must be this device's: not another device's, and not something else.
    const upload = (deviceId: string, keyPackages: string[]) => alice.request('keyPackagesUpload', { deviceId, keyPackages });
    const bobsPackage = base64((await createKeyPackage(bobDevice)).encoded);
    await expect(upload(device.id.deviceId, [bobsPackage])).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('credential') });
    await expect(upload(device.id.deviceId, [base64(Buffer.from('not mls'))])).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await expect(upload(bobDevice.id.deviceId, [bobsPackage])).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_DEVICE });
    expect(await upload(device.id.deviceId, [base64((await createKeyPackage(device)).encoded)])).toEqual({ keyPackages: 1 });
    // The last-resort package likewise, and nothing of a refused upload is kept.
    const mine = base64((await createKeyPackage(device)).encoded);
    await expect(alice.request('keyPackagesUpload', { deviceId: device.id.deviceId, keyPackages: [mine], lastResort: bobsPackage })).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
      message: expect.stringContaining('lastResort: its credential'),
    });
    expect(await alice.request('deviceRegister', { deviceId: device.id.deviceId, signatureKey })).toEqual({ userId: device.id.userId, keyPackages: 1, lastResort: false });

    // Frames: the room is not encrypted, a frame's clear header must name this conversation's group and be what the request says.
    const conv = dmConversation(device.id.userId, bobDevice.id.userId);
    const group = await createGroup(device, new TextEncoder().encode(conv));
    const added = await addMembers(group, [(await createKeyPackage(bobDevice)).encoded]);
    const commit = base64(added.commit);
    const mlsCommit = (fields: Partial<{ conv: string; deviceId: string; commit: string }>) =>
      alice.request('mlsCommit', { conv, deviceId: device.id.deviceId, commit, ...fields });
    await expect(mlsCommit({ conv: 'room' })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('room') });
    await expect(mlsCommit({ conv: dmConversation(device.id.userId, 99) })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('group') });
    await expect(mlsCommit({ commit: base64(added.welcome) })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await expect(mlsCommit({ deviceId: bobDevice.id.deviceId })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_DEVICE });
    const message = base64((await encrypt(added.group, new TextEncoder().encode('x'))).message);
    await expect(alice.request('mlsSend', { conv, deviceId: device.id.deviceId, clientMsgId: 'c1', data: message })).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
      message: expect.stringContaining('after the conversation'),
    });
    await expect(mlsCommit({ commit: message })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('not a commit') });
    expect((await alice.request('mlsSync', { after: 0 })).frames).toEqual([]);

    // What it checked is stored once: the commit for epoch 0 wins, the same again is refused.
    expect((await mlsCommit({})).frame).toMatchObject({ seq: 1, epoch: 0, kind: 'commit', from: 'alice', fromDevice: device.id.deviceId });
    await expect(mlsCommit({})).rejects.toMatchObject({ code: ErrorCode.EPOCH_TAKEN, message: expect.stringContaining('epoch 1') });
    expect((await alice.request('mlsSend', { conv, deviceId: device.id.deviceId, clientMsgId: 'c1', data: message })).frame.seq).toBe(2);
  });

  it('reports delivery of application frames, lists their DM, and keeps read positions up to the newest frame', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [device, bobDevice] = [await registered(alice), await registered(bob)];
    const conv = dmConversation(device.id.userId, bobDevice.id.userId);
    const added = await addMembers(await createGroup(device, new TextEncoder().encode(conv)), [(await createKeyPackage(bobDevice)).encoded]);
    await alice.request('mlsCommit', { conv, deviceId: device.id.deviceId, commit: base64(added.commit) });
    let group = added.group;
    const send = async (clientMsgId: string) => {
      const sent = await encrypt(group, new TextEncoder().encode(clientMsgId));
      group = sent.group;
      return alice.request('mlsSend', { conv, deviceId: device.id.deviceId, clientMsgId, data: base64(sent.message) });
    };

    // bob is online: delivered as stored. A resend is not delivered again.
    const live = await send('live');
    expect(live).toMatchObject({ duplicate: false, delivered: true });
    expect(await send('live')).toMatchObject({ duplicate: true, delivered: false });
    // The DM is bob's to read and count, as a plain message would make it; his position stops at its newest frame.
    expect((await bob.request('readState')).conversations.map((state) => state.conv)).toContain(conv);
    const newest = E2EE_ID_BASE + live.frame.id;
    expect(await bob.request('read', { conv, upTo: newest + 1000 })).toEqual({ upTo: newest });
    expect(await alice.request('receipts', { conv })).toEqual({ receipts: [{ user: 'bob', upTo: newest }] });

    // bob away: not delivered; once he fetches it, alice is told, by the message id of its frame.
    bob.close();
    await room.gone('bob');
    const away = await send('away');
    expect(away.delivered).toBe(false);
    const back = await room.user('bob');
    const told = nextEvent(alice, 'delivered', (push) => push.conv === conv);
    await back.request('mlsSync', { after: live.frame.id });
    expect((await told)[0].upTo).toBe(E2EE_ID_BASE + away.frame.id);
  });

  it('claims one key package per device, then its last-resort one if it has one, and says which devices have none', async () => {
    // Oldest first is by registration time: on a clock that reads each millisecond once, two devices registered
    // within one millisecond are not a tie (a tie is ordered by the random device ids: CI failed so once).
    let last = 0;
    await room.start({ localClock: () => (last = Math.max(Date.now(), last + 1)) });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const [laptop, phone] = [await registered(bob), await registered(bob)];
    const [once, lastResort] = [base64((await createKeyPackage(laptop)).encoded), base64((await createKeyPackage(laptop)).encoded)];
    await bob.request('keyPackagesUpload', { deviceId: laptop.id.deviceId, keyPackages: [once], lastResort });
    const claimed = async () => (await alice.request('keyPackagesClaim', { user: 'BOB' })).devices.map((device) => [device.deviceId, device.keyPackage, device.lastResort]);
    // Listing names each device and whether it can be added, claims nothing, and leaves out who has no device or does not exist.
    expect(await alice.request('deviceList', { users: ['BOB', 'alice', 'nobody', 'bob'] })).toEqual({
      users: [{ user: 'bob', devices: [{ deviceId: laptop.id.deviceId, addable: true }, { deviceId: phone.id.deviceId, addable: false }] }],
    });
    await expect(alice.request('deviceList', { users: Array.from({ length: 101 }, (_, i) => `user${i}`) })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect(await claimed()).toEqual([
      [laptop.id.deviceId, once, undefined],
      [phone.id.deviceId, undefined, undefined],
    ]);
    for (let i = 0; i < 2; i++) {
      expect(await claimed()).toEqual([
        [laptop.id.deviceId, lastResort, true],
        [phone.id.deviceId, undefined, undefined],
      ]);
    }
    expect(await bob.request('deviceRegister', { deviceId: laptop.id.deviceId, signatureKey: base64(laptop.signaturePublicKey) })).toMatchObject({
      keyPackages: 0,
      lastResort: true,
    });
    // Naming devices claims only theirs: the others are listed without a package.
    const phones = base64((await createKeyPackage(phone)).encoded);
    await bob.request('keyPackagesUpload', { deviceId: phone.id.deviceId, keyPackages: [phones] });
    const only = await alice.request('keyPackagesClaim', { user: 'bob', devices: [phone.id.deviceId] });
    expect(only.devices.map((device) => [device.deviceId, device.keyPackage, device.lastResort])).toEqual([
      [laptop.id.deviceId, undefined, undefined],
      [phone.id.deviceId, phones, undefined],
    ]);
    await expect(alice.request('keyPackagesClaim', { user: 'bob', devices: [] })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await expect(alice.request('keyPackagesClaim', { user: 'bob', devices: Array.from({ length: 11 }, () => phone.id.deviceId) })).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
    });
    await expect(alice.request('keyPackagesClaim', { user: 'nobody' })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
  });

  it('tells a user, and those who have a chat or a group with them, when a device of theirs can be added again, and nobody else', async () => {
    // Wide enough that three uploads in one write land in one window on a loaded machine.
    const windowMs = 1000;
    await room.start({ presenceWindowMs: windowMs });
    const [alice, bob, carol, dave] = [await room.user('alice'), await room.user('bob'), await room.user('carol'), await room.user('dave')];
    await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    // dave has no chat with bob, only a group; carol has neither.
    const { group } = await bob.request('groupCreate', { name: 'plans', members: ['dave'] });
    await dave.request('groupAnswer', { groupId: group.id, accept: true });
    const heard = { alice: [] as string[], carol: [] as string[], bob: [] as string[], dave: [] as string[] };
    alice.on('deviceReady', (push) => heard.alice.push(push.user));
    carol.on('deviceReady', (push) => heard.carol.push(push.user));
    bob.on('deviceReady', (push) => heard.bob.push(push.user));
    dave.on('deviceReady', (push) => heard.dave.push(push.user));
    const device = await registered(bob);
    const upload = async () => bob.request('keyPackagesUpload', { deviceId: device.id.deviceId, keyPackages: [base64((await createKeyPackage(device)).encoded)] });
    // Each request's answer follows every push the host wrote to that connection before it.
    const settled = () => Promise.all([alice, bob, carol, dave].map((client) => client.request('users')));

    await settled();
    expect(heard).toEqual({ alice: [], carol: [], bob: [], dave: [] });
    const ready = nextEvent(alice, 'deviceReady');
    await upload();
    expect(await ready).toEqual([{ type: 'deviceReady', user: 'bob', devices: [device.id.deviceId] }]);
    // Another upload while it has some left tells nobody; one after they were all claimed does again.
    await upload();
    await settled();
    expect(heard).toEqual({ alice: ['bob'], carol: [], bob: ['bob'], dave: ['bob'] });
    // Past that window: its timer, set in this process before the upload was answered, fires before this one.
    await delay(windowMs);
    for (let i = 0; i < 2; i++) await alice.request('keyPackagesClaim', { user: 'bob' });
    // The phone has none again, and two more of bob's apps upload with it in one window: the phone is told at
    // once, the others held to the window's end, not dropped, and told together.
    const [laptop, tablet] = [await registered(bob), await registered(bob)];
    const uploads = await Promise.all(
      [device, laptop, tablet].map(async (each) => ({ deviceId: each.id.deviceId, keyPackages: [base64((await createKeyPackage(each)).encoded)] })),
    );
    const told: string[][] = [];
    alice.on('deviceReady', (push) => told.push(push.devices ?? []));
    await Promise.all(uploads.map((each) => bob.request('keyPackagesUpload', each)));
    await waitFor(() => told.length === 2, 'the held devices told');
    expect(told).toEqual([[device.id.deviceId], [laptop.id.deviceId, tablet.id.deviceId]]);
    await settled();
    expect(heard).toEqual({ alice: ['bob', 'bob', 'bob'], carol: [], bob: ['bob', 'bob', 'bob'], dave: ['bob', 'bob', 'bob'] });
  });

  it("tells a device's user when a claim leaves it fewer than ten key packages, their own claim too", async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const heard: unknown[] = [];
    bob.on('keyPackagesLow', (push) => heard.push(push));
    const device = await registered(bob);
    const keyPackages = await Promise.all(Array.from({ length: 11 }, async () => base64((await createKeyPackage(device)).encoded)));
    await bob.request('keyPackagesUpload', { deviceId: device.id.deviceId, keyPackages });
    const settled = () => Promise.all([alice, bob].map((client) => client.request('users')));
    // Ten left is enough.
    await alice.request('keyPackagesClaim', { user: 'bob' });
    await settled();
    expect(heard).toEqual([]);
    const low = nextEvent(bob, 'keyPackagesLow');
    await alice.request('keyPackagesClaim', { user: 'bob' });
    const told = { type: 'keyPackagesLow', deviceId: device.id.deviceId, keyPackages: 9 };
    expect(await low).toEqual([told]);
    // Bob's app on another device adding this one: it is told as well.
    await bob.request('keyPackagesClaim', { user: 'bob' });
    await settled();
    expect(heard).toEqual([told, { ...told, keyPackages: 8 }]);
  });

  it('tells of a user who uploads and claims their own key packages in a loop once a window', async () => {
    // A window longer than the test: every telling after the first is held to its end.
    await room.start({ presenceWindowMs: 3_600_000 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.request('chatRequest', { user: 'bob' });
    let told = 0;
    alice.on('deviceReady', () => told++);
    const device = await registered(bob);
    const first = nextEvent(alice, 'deviceReady');
    for (let i = 0; i < 40; i++) {
      const keyPackages = [base64((await createKeyPackage(device)).encoded)];
      await bob.request('keyPackagesUpload', { deviceId: device.id.deviceId, keyPackages });
      // Claiming oneself hands out one's own package too: none left, so the next upload makes it ready again.
      await bob.request('keyPackagesClaim', { user: 'bob' });
    }
    await first;
    await Promise.all([alice, bob].map((client) => client.request('users')));
    expect(told).toBe(1);
  });
});
