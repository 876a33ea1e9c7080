import { describe, expect, it } from 'vitest';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { StoreConflictError } from './types.js';
import { addUser, addUsers, expectSearchIndexInStep, groupMessage, searchTexts, send, store, forEachBackend } from './test-store.js';
import type { GroupRow, UserRow } from './types.js';

forEachBackend(() => {
  describe('relations', () => {
    it('are stored once per pair, whatever the argument order', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const carol = await addUser('Carol');
      const pending = await store.setRelation(bob.id, ali.id, 'pending', bob.id, 10);
      expect(pending).toEqual({ userLow: ali.id, userHigh: bob.id, state: 'pending', requesterId: bob.id, since: 10 });
      expect(await store.relation(ali.id, bob.id)).toEqual(pending);

      const accepted = await store.setRelation(ali.id, bob.id, 'accepted', bob.id, 20);
      expect(accepted).toEqual({ ...pending, state: 'accepted', since: 20 });
      await store.setRelation(carol.id, bob.id, 'declined', carol.id, 30);

      expect((await store.relationsOf(bob.id)).map((relation) => [relation.userLow, relation.userHigh])).toEqual([
        [ali.id, bob.id],
        [bob.id, carol.id],
      ]);
      expect(await store.relationsOf(ali.id)).toEqual([accepted]);

      await store.deleteRelation(bob.id, ali.id);
      expect(await store.relation(ali.id, bob.id)).toBeUndefined();
      expect(await store.relationsOf(ali.id)).toEqual([]);
      expect(await store.relationsOf(carol.id)).toHaveLength(1);
    });
  });

  describe('groups', () => {
    it('make the owner a member and list groups by name', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const zebra = await store.createGroup('Zebra', 'zebra', ali.id, 5);
      const apple = await store.createGroup('apple', 'apple', bob.id, 6);
      expect(zebra).toEqual({ id: zebra.id, name: 'Zebra', nameKey: 'zebra', ownerId: ali.id, createdAt: 5 });
      expect(await store.groupById(zebra.id)).toEqual(zebra);
      expect(await store.groupById(apple.id)).toEqual(apple);
      expect(await store.memberIds(zebra.id)).toEqual([ali.id]);
      expect(await store.isMember(zebra.id, ali.id)).toBe(true);
      expect(await store.isMember(zebra.id, bob.id)).toBe(false);

      await store.addMember(zebra.id, bob.id);
      await store.addMember(zebra.id, bob.id);
      expect(await store.memberIds(zebra.id)).toEqual([ali.id, bob.id]);
      expect((await store.groupsOf(bob.id)).map((group) => group.name)).toEqual(['apple', 'Zebra']);
      expect((await store.groupsOf(ali.id)).map((group) => group.name)).toEqual(['Zebra']);

      await store.removeMember(zebra.id, bob.id);
      expect((await store.groupsOf(bob.id)).map((group) => group.name)).toEqual(['apple']);
    });

    it('name everyone who shares a group with a user, once each, not the user', async () => {
      const [ali, bob, carol, dan] = await addUsers('Ali', 'Bob', 'Carol', 'Dan');
      const one = await store.createGroup('One', 'one', ali.id, 1);
      const two = await store.createGroup('Two', 'two', carol.id, 2);
      await store.addMember(one.id, bob.id);
      await store.addMember(two.id, bob.id);
      await store.addMember(two.id, ali.id);
      await store.createGroup('Alone', 'alone', dan.id, 3);
      expect(await store.coMemberIds(bob.id)).toEqual([ali.id, carol.id]);
      expect(await store.coMemberIds(ali.id)).toEqual([bob.id, carol.id]);
      expect(await store.coMemberIds(dan.id)).toEqual([]);
    });

    it('refuse a taken name key on create and rename with StoreConflictError', async () => {
      const ali = await addUser('Ali');
      const team = await store.createGroup('Team', 'team', ali.id, 1);
      const other = await store.createGroup('Other', 'other', ali.id, 1);
      await expect(store.createGroup('TEAM', 'team', ali.id, 2)).rejects.toThrow(StoreConflictError);
      await expect(store.renameGroup(other.id, 'Team', 'team')).rejects.toThrow(StoreConflictError);
      expect((await store.groupById(other.id))?.name).toBe('Other');
      expect(await store.groupsOf(ali.id)).toHaveLength(2);

      await store.renameGroup(team.id, 'TEAM', 'team');
      await store.renameGroup(other.id, 'Crew', 'crew');
      expect((await store.groupsOf(ali.id)).map((group) => group.name)).toEqual(['Crew', 'TEAM']);
    });

    it('are deleted with their members and messages, and their id is not reused', async () => {
      const ali = await addUser('Ali');
      const bob = await addUser('Bob');
      const team = await store.createGroup('Team', 'team', ali.id, 1);
      await store.addMember(team.id, bob.id);
      await send(groupMessage(bob, team.id, 'secret'));
      await store.deleteGroup(team.id);
      expect(await store.groupById(team.id)).toBeUndefined();
      expect(await store.memberIds(team.id)).toEqual([]);
      expect(await store.groupsOf(bob.id)).toEqual([]);
      expect((await store.history(groupConversation(team.id), undefined, 10)).messages).toEqual([]);
      expect((await store.sync(bob.id, 0, 10)).messages).toEqual([]);
      const again = await store.createGroup('Team', 'team', ali.id, 2);
      expect(again.id).not.toBe(team.id);
    });

    it('keep invitations, pending or declined, apart from members, until the group is deleted', async () => {
      const [ali, bob, carol] = [await addUser('Ali'), await addUser('Bob'), await addUser('Carol')];
      const team = await store.createGroup('Team', 'team', ali.id, 1);
      const crew = await store.createGroup('Crew', 'crew', ali.id, 1);
      await store.invite(team.id, bob.id, ali.id, 10);
      await store.invite(crew.id, bob.id, ali.id, 5);
      await store.invite(team.id, carol.id, ali.id, 11);
      expect((await store.invitationsOf(bob.id)).map((row) => row.groupId)).toEqual([crew.id, team.id]);
      expect(await store.invitedIds(team.id)).toEqual([bob.id, carol.id]);
      expect(await store.memberIds(team.id)).toEqual([ali.id]);

      await store.declineInvitation(team.id, carol.id, ali.id, 12);
      expect(await store.invitation(team.id, carol.id)).toEqual({ groupId: team.id, userId: carol.id, inviterId: ali.id, state: 'declined', since: 12 });
      expect(await store.invitedIds(team.id)).toEqual([bob.id]);
      expect(await store.invitationsOf(carol.id)).toEqual([]);

      await store.deleteInvitation(crew.id, bob.id);
      expect(await store.invitation(crew.id, bob.id)).toBeUndefined();
      await store.deleteGroup(team.id);
      expect(await store.invitation(team.id, carol.id)).toBeUndefined();
      expect(await store.invitationsOf(bob.id)).toEqual([]);
    });
  });

  describe('membership lines', () => {
    function created(group: GroupRow, actor: UserRow) {
      return { groupId: group.id, actorId: actor.id, event: { kind: 'created', name: group.name }, text: `${actor.name} created the group` };
    }

    it('are stored with the change, in the group history among its messages, found by no search', async () => {
      const [ali, bob] = [await addUser('Ali'), await addUser('Bob')];
      const { result: team, lines } = await store.changeGroups(7, async (tx) => {
        const team = await tx.createGroup('Team', 'team', ali.id, 7);
        await tx.invite(team.id, bob.id, ali.id, 7);
        return { result: team, events: [created(team, ali), { groupId: team.id, actorId: ali.id, event: { kind: 'invited', user: 'Bob' }, text: 'Ali invited Bob' }] };
      });
      expect(lines.map((line) => line.message)).toEqual([
        { id: 1, conv: groupConversation(team.id), from: 'Ali', groupId: team.id, text: 'Ali created the group', ts: 7, clientMsgId: expect.stringMatching(/^group-event:/), groupEvent: { kind: 'created', name: 'Team' } },
        expect.objectContaining({ id: 2, groupEvent: { kind: 'invited', user: 'Bob' } }),
      ]);
      await store.addMember(team.id, bob.id);
      await send(groupMessage(bob, team.id, 'Ali created the group, I joined'));
      // Catch-up through the event log sees them too, in order.
      expect((await store.events(bob.id, 0, 10)).events.map((event) => 'message' in event && event.message?.id)).toEqual([1, 2, 3]);
      expect((await store.history(groupConversation(team.id), undefined, 10)).messages.map((message) => message.id)).toEqual([1, 2, 3]);
      expect((await store.sync(bob.id, 0, 10)).messages.map((message) => message.id)).toEqual([1, 2, 3]);
      expect(await searchTexts(bob.id, 'created')).toEqual(['Ali created the group, I joined']);
      expect(await searchTexts(bob.id, '', ali.id)).toEqual([]);
      await expectSearchIndexInStep();
      await store.deleteGroup(team.id);
      await expectSearchIndexInStep();
      expect((await store.sync(bob.id, 0, 10)).messages).toEqual([]);
    });

    it('are not stored when the change fails, nor is the change', async () => {
      const ali = await addUser('Ali');
      await store.createGroup('Team', 'team', ali.id, 1);
      await expect(
        store.changeGroups(2, async (tx) => {
          const group = await tx.createGroup('TEAM', 'team', ali.id, 2);
          return { result: group, events: [created(group, ali)] };
        }),
      ).rejects.toThrow(StoreConflictError);
      expect(await store.groupsOf(ali.id)).toHaveLength(1);
      expect((await store.events(ali.id, 0, 10)).events).toEqual([]);
      expect(await store.lastMessageId()).toBe(0);
    });

    it('are not stored, nor is anything the change wrote, when it fails after writing', async () => {
      const [ali, bob] = await addUsers('Ali', 'Bob');
      const team = await store.createGroup('Team', 'team', ali.id, 1);
      await expect(
        store.changeGroups(2, async (tx) => {
          await tx.invite(team.id, bob.id, ali.id, 2);
          // A taken name, caught: the transaction goes on (a savepoint undid only the failed insert).
          await expect(tx.createGroup('TEAM', 'team', bob.id, 2)).rejects.toThrow(StoreConflictError);
          await tx.addMember(team.id, bob.id);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await store.invitedIds(team.id)).toEqual([]);
      expect(await store.memberIds(team.id)).toEqual([ali.id]);
      expect(await store.lastMessageId()).toBe(0);
    });
  });
});
