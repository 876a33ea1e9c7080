import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Device,
  type Group,
  addMembers,
  createDevice,
  createGroup,
  createKeyPackage,
  encrypt,
  joinFromWelcome,
  members,
  receive,
  removeMembers,
} from './mls.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const read = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const device = (userId: number): Promise<Device> => createDevice(userId, randomBytes(16).toString('hex'));

/** Sends `value` from `from` and has `to` receive it: the next states of both and what `to` read. */
async function send(from: Group, to: Group, value: string) {
  const sent = await encrypt(from, text(value));
  const got = await receive(to, sent.message);
  if (got.kind !== 'message') throw new Error(`expected a message, got ${got.kind}`);
  return { from: sent.group, to: got.group, plaintext: read(got.plaintext), sender: got.sender, message: sent.message };
}

/** Alice makes a group and adds Bob: both states at epoch 1. */
async function aliceAndBob() {
  const [alice, bob] = await Promise.all([device(1), device(2)]);
  const bobPackage = await createKeyPackage(bob);
  const added = await addMembers(await createGroup(alice, text('group:1')), [bobPackage.encoded]);
  return { alice, bob, aliceGroup: added.group, bobGroup: await joinFromWelcome(bob, bobPackage, added.welcome) };
}

describe('MLS groups over ts-mls', () => {
  it('two devices exchange messages both ways, each knowing who sent what', async () => {
    const { alice, bob, aliceGroup, bobGroup } = await aliceAndBob();
    expect(members(bobGroup)).toEqual([alice.id, bob.id]);

    const first = await send(aliceGroup, bobGroup, 'merhaba Bob');
    expect(first.plaintext).toBe('merhaba Bob');
    expect(first.sender).toEqual(alice.id);
    expect(Buffer.from(first.message).includes(Buffer.from('merhaba'))).toBe(false);

    const back = await send(first.to, first.from, 'selam Alice');
    expect(back.plaintext).toBe('selam Alice');
    expect(back.sender).toEqual(bob.id);
  });

  it('a third device added later reads what follows, and all three talk', async () => {
    const { bob, aliceGroup, bobGroup } = await aliceAndBob();
    const carol = await device(3);
    const carolPackage = await createKeyPackage(carol);
    const added = await addMembers(bobGroup, [carolPackage.encoded]);
    const aliceCommit = await receive(aliceGroup, added.commit);
    expect(aliceCommit.kind).toBe('commit');
    const carolGroup = await joinFromWelcome(carol, carolPackage, added.welcome);
    expect(members(carolGroup).map((id) => id.userId)).toEqual([1, 2, 3]);

    const sent = await encrypt(added.group, text('hello both'));
    const [atAlice, atCarol] = await Promise.all([receive(aliceCommit.group, sent.message), receive(carolGroup, sent.message)]);
    for (const got of [atAlice, atCarol]) {
      expect(got.kind === 'message' && read(got.plaintext)).toBe('hello both');
      expect(got.kind === 'message' && got.sender).toEqual(bob.id);
    }
    const fromCarol = await send(atCarol.group, atAlice.group, 'hi from carol');
    expect(fromCarol.sender).toEqual(carol.id);
  });

  it('a welcome is for its key package only: another device cannot join with it', async () => {
    const [alice, bob, eve] = await Promise.all([device(1), device(2), device(9)]);
    const bobPackage = await createKeyPackage(bob);
    const added = await addMembers(await createGroup(alice, text('group:1')), [bobPackage.encoded]);
    await expect(joinFromWelcome(eve, await createKeyPackage(eve), added.welcome)).rejects.toThrow();
  });

  it('a removed member cannot decrypt anything sent after the removal', async () => {
    const { alice, bob, aliceGroup, bobGroup } = await aliceAndBob();
    const carol = await device(3);
    const carolPackage = await createKeyPackage(carol);
    const added = await addMembers(aliceGroup, [carolPackage.encoded]);
    const bobAt2 = (await receive(bobGroup, added.commit)).group;
    const carolAt2 = await joinFromWelcome(carol, carolPackage, added.welcome);

    const removal = await removeMembers(added.group, [bob.id]);
    expect(members(removal.group)).toEqual([alice.id, carol.id]);
    const carolAt3 = await receive(carolAt2, removal.commit);
    const bobAfter = await receive(bobAt2, removal.commit);
    expect(bobAfter).toMatchObject({ kind: 'commit', removed: true });

    const secret = await encrypt(removal.group, text('after bob left'));
    const atCarol = await receive(carolAt3.group, secret.message);
    expect(atCarol.kind === 'message' && read(atCarol.plaintext)).toBe('after bob left');
    // Bob, whether he processed his removal or not, has only the keys of epochs before it.
    await expect(receive(bobAfter.group, secret.message)).rejects.toThrow();
    await expect(receive(bobAt2, secret.message)).rejects.toThrow();
    // Nor can he send into the new epoch: his messages are of an epoch the others have left behind.
    await expect(encrypt(bobAfter.group, text('still here?'))).rejects.toThrow();
  });

  it('a message sent before a commit still opens after it, with its sender, and a commit applies only once', async () => {
    const { alice, aliceGroup, bobGroup } = await aliceAndBob();
    const early = await encrypt(aliceGroup, text('sent in epoch 1'));
    const carol = await device(3);
    const added = await addMembers(bobGroup, [(await createKeyPackage(carol)).encoded]);
    // The host ordered Bob's commit before Alice's message: Bob is at epoch 2 when it arrives.
    const late = await receive(added.group, early.message);
    expect(late.kind === 'message' && [read(late.plaintext), late.sender]).toEqual(['sent in epoch 1', alice.id]);
    const applied = await receive(early.group, added.commit);
    expect(applied.group.state.groupContext.epoch).toBe(2n);
    await expect(receive(applied.group, added.commit)).rejects.toThrow();
  });

  it('a replayed message is refused and changes nothing', async () => {
    const { aliceGroup, bobGroup } = await aliceAndBob();
    const first = await send(aliceGroup, bobGroup, 'once');
    await expect(receive(first.to, first.message)).rejects.toThrow();
    const next = await send(first.from, first.to, 'twice');
    expect(next.plaintext).toBe('twice');
  });

  it('a ciphertext with any one byte changed is refused, and the group still reads the original', async () => {
    const { aliceGroup, bobGroup } = await aliceAndBob();
    const sent = await encrypt(aliceGroup, text('do not touch'));
    // A byte in the header (group id, epoch), in the encrypted sender data, and in the ciphertext.
    for (const at of [8, sent.message.length - 40, sent.message.length - 1]) {
      const tampered = Uint8Array.from(sent.message);
      tampered[at] = (tampered[at] as number) ^ 0x01;
      await expect(receive(bobGroup, tampered)).rejects.toThrow();
    }
    const got = await receive(bobGroup, sent.message);
    expect(got.kind === 'message' && read(got.plaintext)).toBe('do not touch');
  });

  it('a message from a device outside the group is refused, even under the same group id', async () => {
    const { aliceGroup, bobGroup } = await aliceAndBob();
    const eve = await device(9);
    const evesGroup = await createGroup(eve, text('group:1'));
    // Eve's own group is at epoch 0: bring it to epoch 1 like Alice and Bob's by adding a device of hers.
    const evePhone = await device(9);
    const eveAt1 = (await addMembers(evesGroup, [(await createKeyPackage(evePhone)).encoded])).group;
    expect(eveAt1.state.groupContext.epoch).toBe(aliceGroup.state.groupContext.epoch);
    const forged = await encrypt(eveAt1, text('trust me'));
    await expect(receive(bobGroup, forged.message)).rejects.toThrow();
    const real = await send(aliceGroup, bobGroup, 'real');
    expect(real.plaintext).toBe('real');
  });

  it('refuses what is not a LanChat device or not an MLS message', async () => {
    await expect(createDevice(0, 'a'.repeat(32))).rejects.toThrow('not a user id');
    await expect(createDevice(1, 'not-hex')).rejects.toThrow('32 lowercase hexadecimal digits');
    const { aliceGroup, bobGroup } = await aliceAndBob();
    await expect(receive(bobGroup, text('plain text'))).rejects.toThrow('not an MLS message');
    const sent = await encrypt(aliceGroup, text('x'));
    await expect(receive(bobGroup, Uint8Array.from([...sent.message, 0]))).rejects.toThrow('not an MLS message');
    await expect(addMembers(aliceGroup, [sent.message])).rejects.toThrow('not a key package');
  });
});
