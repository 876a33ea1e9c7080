import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { addUsers, backend, file, forEachBackend, rowCounts, store } from './test-store.js';
import type { NewMlsFrame } from './mls.js';

forEachBackend(() => {
  const KEY = Buffer.alloc(32, 7);
  const bytes = (text: string): Buffer => Buffer.from(text);

  describe('the end-to-end encryption store', () => {
    it('registers a device once per key, keeps key packages up to the limit and hands each out once, oldest first', async () => {
      const [alice, bob] = await addUsers('alice', 'bob');
      expect(await store.registerDevice(alice.id, 'a1', KEY, 10, 2)).toEqual({ keyPackages: 0, lastResort: false });
      expect(await store.registerDevice(alice.id, 'a1', Buffer.alloc(32, 8), 11, 2)).toEqual({ refused: 'taken' });
      expect(await store.registerDevice(alice.id, 'a2', KEY, 12, 2)).toEqual({ keyPackages: 0, lastResort: false });
      expect(await store.registerDevice(alice.id, 'a3', KEY, 13, 2)).toEqual({ refused: 'limit' });
      expect(await store.addKeyPackages(alice.id, 'a1', [bytes('p1'), bytes('p2')], 3)).toEqual({ keyPackages: 2 });
      expect(await store.addKeyPackages(alice.id, 'a1', [bytes('p3'), bytes('p4')], 3)).toEqual({ refused: 'limit' });
      expect(await store.addKeyPackages(bob.id, 'a1', [bytes('p5')], 3)).toEqual({ refused: 'device' });
      expect(await store.registerDevice(alice.id, 'a1', KEY, 14, 2)).toEqual({ keyPackages: 2, lastResort: false });

      const first = await store.claimKeyPackages(alice.id);
      expect(first.map((device) => [device.deviceId, device.keyPackage?.toString(), device.left])).toEqual([
        ['a1', 'p1', 1],
        ['a2', undefined, 0],
      ]);
      expect(await store.listDevices(['alice', 'bob', 'nobody'])).toEqual([
        { user: 'alice', deviceId: 'a1', addable: true },
        { user: 'alice', deviceId: 'a2', addable: false },
      ]);
      expect((await store.claimKeyPackages(alice.id))[0]!.keyPackage?.toString()).toBe('p2');
      expect((await store.claimKeyPackages(alice.id))[0]!.keyPackage).toBeUndefined();
      expect((await store.listDevices(['alice'])).map((device) => device.addable)).toEqual([false, false]);
    });

    it('hands a device out with its last-resort package, again and again, once it has no other; a new one replaces it', async () => {
      const [alice] = await addUsers('alice');
      await store.registerDevice(alice.id, 'a1', KEY, 10, 2);
      expect(await store.addKeyPackages(alice.id, 'a1', [bytes('p1')], 1, bytes('last 1'))).toEqual({ keyPackages: 1 });
      expect(await store.registerDevice(alice.id, 'a1', KEY, 11, 2)).toEqual({ keyPackages: 1, lastResort: true });
      const claim = async (): Promise<unknown[]> => (await store.claimKeyPackages(alice.id)).map((device) => [device.keyPackage?.toString(), device.lastResort, device.left]);
      expect(await claim()).toEqual([['p1', undefined, 0]]);
      expect(await claim()).toEqual([['last 1', true, 0]]);
      expect(await claim()).toEqual([['last 1', true, 0]]);
      // The last-resort one is not counted against the limit, and is replaced, not added to.
      expect(await store.addKeyPackages(alice.id, 'a1', [bytes('p2')], 1, bytes('last 2'))).toEqual({ keyPackages: 1 });
      expect(await claim()).toEqual([['p2', undefined, 0]]);
      expect(await claim()).toEqual([['last 2', true, 0]]);
    });

    it('claims only the devices named, listing the others without a package and taking none of theirs', async () => {
      const [alice] = await addUsers('alice');
      await store.registerDevice(alice.id, 'a1', KEY, 10, 2);
      await store.registerDevice(alice.id, 'a2', KEY, 11, 2);
      await store.addKeyPackages(alice.id, 'a1', [bytes('p1')], 3, bytes('last a1'));
      await store.addKeyPackages(alice.id, 'a2', [bytes('q1'), bytes('q2')], 3);
      const claim = async (only?: string[]): Promise<unknown[]> =>
        (await store.claimKeyPackages(alice.id, only)).map((device) => [device.deviceId, device.keyPackage?.toString(), device.left]);
      expect(await claim(['a2'])).toEqual([
        ['a1', undefined, undefined],
        ['a2', 'q1', 1],
      ]);
      // Names of no device of hers claim nothing; the devices kept their packages for the next full claim.
      expect(await claim(['someone-elses'])).toEqual([
        ['a1', undefined, undefined],
        ['a2', undefined, undefined],
      ]);
      expect(await claim()).toEqual([
        ['a1', 'p1', 0],
        ['a2', 'q2', 0],
      ]);
    });

    it('does not take an account with a device for a silent one: a new account could get its id, and with it the device', async () => {
      const [alice, bob] = await addUsers('alice', 'bob');
      await store.registerDevice(bob.id, 'b1', KEY, 10, 2);
      expect((await store.silentAccounts(0, 2000, 10)).map((user) => user.name)).toEqual(['alice']);
      expect(await store.deleteSilentAccounts([alice.id, bob.id])).toEqual([alice.id]);
    });

    it('orders frames per conversation: the first commit for an epoch wins, and only readers may post or read', async () => {
      const [alice, bob, carol] = await addUsers('alice', 'bob', 'carol');
      for (const user of [alice, bob, carol]) await store.registerDevice(user.id, `d${user.id}`, KEY, 1, 10);
      const conv = dmConversation(alice.id, bob.id);
      const frame = (senderId: number, kind: 'commit' | 'application', epoch: number, extra: Partial<NewMlsFrame> = {}): NewMlsFrame => ({
        conv,
        dm: { low: Math.min(alice.id, bob.id), high: Math.max(alice.id, bob.id) },
        senderId,
        deviceId: `d${senderId}`,
        kind,
        epoch,
        data: bytes(`${kind}-${senderId}-${epoch}`),
        ts: 5,
        ...extra,
      });
      const won = await store.appendMlsFrame(frame(alice.id, 'commit', 0, { welcome: bytes('w'), added: [{ userId: bob.id, deviceId: `d${bob.id}` }] }));
      expect(won).toMatchObject({ duplicate: false, frame: { seq: 1, epoch: 0, kind: 'commit', from: 'alice' } });
      expect('frame' in won && won.frame.added).toEqual([{ userId: bob.id, user: 'bob', deviceId: `d${bob.id}` }]);
      expect(await store.appendMlsFrame(frame(bob.id, 'commit', 0))).toEqual({ refused: 'epoch', epoch: 1 });
      expect(await store.appendMlsFrame(frame(bob.id, 'application', 2, { clientMsgId: 'm' }))).toEqual({ refused: 'futureEpoch' });
      const sent = await store.appendMlsFrame(frame(bob.id, 'application', 1, { clientMsgId: 'm' }));
      expect(sent).toMatchObject({ duplicate: false, frame: { seq: 2 } });
      expect(await store.appendMlsFrame(frame(bob.id, 'application', 1, { clientMsgId: 'm' }))).toMatchObject({ duplicate: true, frame: { seq: 2 } });
      expect(await store.appendMlsFrame(frame(carol.id, 'application', 1))).toEqual({ refused: 'conversation' });
      expect(await store.appendMlsFrame(frame(alice.id, 'commit', 1, { deviceId: 'other' }))).toEqual({ refused: 'device' });

      expect((await store.mlsFrames(bob.id, 0, 10)).map((found) => [found.seq, found.data.toString()])).toEqual([
        [1, `commit-${alice.id}-0`],
        [2, `application-${bob.id}-1`],
      ]);
      expect(await store.mlsFrames(carol.id, 0, 10)).toEqual([]);

      // A group's frames: its members now, so a removed member reads none and may post none.
      const group = await store.createGroup('g', 'g', alice.id, 1);
      await store.addMember(group.id, carol.id);
      const inGroup = (senderId: number): NewMlsFrame => ({ ...frame(senderId, 'commit', 0), conv: groupConversation(group.id), dm: undefined, groupId: group.id });
      expect(await store.appendMlsFrame(inGroup(carol.id))).toMatchObject({ frame: { seq: 1 } });
      await store.removeMember(group.id, carol.id);
      expect(await store.appendMlsFrame({ ...inGroup(carol.id), epoch: 1 })).toEqual({ refused: 'conversation' });
      expect(await store.mlsFrames(carol.id, 0, 10)).toEqual([]);
      expect((await store.mlsFrames(alice.id, 0, 10)).map((found) => found.conv)).toEqual([conv, conv, groupConversation(group.id)]);
    });

    it("deleting a group deletes its frames, their welcomes and its epoch, and no other conversation's", async () => {
      const [alice, bob] = await addUsers('alice', 'bob');
      for (const user of [alice, bob]) await store.registerDevice(user.id, `d${user.id}`, KEY, 1, 10);
      const group = await store.createGroup('g', 'g', alice.id, 1);
      await store.addMember(group.id, bob.id);
      const conv = groupConversation(group.id);
      const dm = dmConversation(alice.id, bob.id);
      const frame = (to: string, kind: 'commit' | 'application', epoch: number, data: string, extra: Partial<NewMlsFrame> = {}): NewMlsFrame => ({
        conv: to,
        ...(to === dm ? { dm: { low: alice.id, high: bob.id } } : { groupId: group.id }),
        senderId: alice.id,
        deviceId: `d${alice.id}`,
        kind,
        epoch,
        data: bytes(data),
        ts: 5,
        ...extra,
      });
      const welcomed = { welcome: bytes('group-welcome-bytes'), added: [{ userId: bob.id, deviceId: `d${bob.id}` }] };
      await store.appendMlsFrame(frame(conv, 'commit', 0, 'group-commit-bytes', welcomed));
      await store.appendMlsFrame(frame(conv, 'application', 1, 'group-message-bytes', { clientMsgId: 'g1' }));
      await store.appendMlsFrame(frame(dm, 'commit', 0, 'dm-commit-bytes'));
      expect((await store.mlsFrames(bob.id, 0, 10)).map((found) => found.conv)).toEqual([conv, conv, dm]);
      const tables = ['mls_frames', 'mls_welcomes', 'mls_conversations'];
      expect(await rowCounts(tables)).toEqual([3, 1, 2]);

      await store.deleteGroup(group.id);
      // In the tables themselves: a removed member's view (mlsFrames) would hide them anyway.
      expect(await rowCounts(tables)).toEqual([1, 0, 1]);
      expect((await store.mlsFrames(alice.id, 0, 10)).map((found) => [found.conv, found.data.toString()])).toEqual([[dm, 'dm-commit-bytes']]);
      // A group made later under the same conversation key would start again at epoch 0 and seq 1.
      const again = await store.createGroup('g2', 'g2', alice.id, 2);
      const next = await store.appendMlsFrame({ ...frame(groupConversation(again.id), 'commit', 0, 'later'), groupId: again.id });
      expect(next).toMatchObject({ frame: { seq: 1, epoch: 0 } });
      if (backend === 'sqlite') {
        // secure_delete: the deleted bytes are not left in the file's free pages; the purge the host runs after a delete empties the WAL.
        await store.purgeDeleted();
        for (const path of [file, `${file}-wal`].filter((path) => existsSync(path))) {
          for (const text of ['group-commit-bytes', 'group-message-bytes', 'group-welcome-bytes']) expect(readFileSync(path).includes(text)).toBe(false);
        }
      }
    });
  });
});
