import { describe, expect, it } from 'vitest';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { StoreConflictError } from './types.js';
import { addUser, expectSearchIndexInStep, groupMessage, searchTexts, send, store, useTestStore } from './test-store.js';
import type { GroupRow, UserRow } from './types.js';

useTestStore();


describe('relations', () => {
  it('are stored once per pair, whatever the argument order', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const carol = addUser('Carol');
    const pending = store.setRelation(bob.id, ali.id, 'pending', bob.id, 10);
    expect(pending).toEqual({ userLow: ali.id, userHigh: bob.id, state: 'pending', requesterId: bob.id, since: 10 });
    expect(store.relation(ali.id, bob.id)).toEqual(pending);

    const accepted = store.setRelation(ali.id, bob.id, 'accepted', bob.id, 20);
    expect(accepted).toEqual({ ...pending, state: 'accepted', since: 20 });
    store.setRelation(carol.id, bob.id, 'declined', carol.id, 30);

    expect(store.relationsOf(bob.id).map((relation) => [relation.userLow, relation.userHigh])).toEqual([
      [ali.id, bob.id],
      [bob.id, carol.id],
    ]);
    expect(store.relationsOf(ali.id)).toEqual([accepted]);

    store.deleteRelation(bob.id, ali.id);
    expect(store.relation(ali.id, bob.id)).toBeUndefined();
    expect(store.relationsOf(ali.id)).toEqual([]);
    expect(store.relationsOf(carol.id)).toHaveLength(1);
  });
});

describe('groups', () => {
  it('make the owner a member and list groups by name', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const zebra = store.createGroup('Zebra', 'zebra', ali.id, 5);
    const apple = store.createGroup('apple', 'apple', bob.id, 6);
    expect(zebra).toEqual({ id: zebra.id, name: 'Zebra', nameKey: 'zebra', ownerId: ali.id, createdAt: 5 });
    expect(store.groupById(zebra.id)).toEqual(zebra);
    expect(store.groupById(apple.id)).toEqual(apple);
    expect(store.memberIds(zebra.id)).toEqual([ali.id]);
    expect(store.isMember(zebra.id, ali.id)).toBe(true);
    expect(store.isMember(zebra.id, bob.id)).toBe(false);

    store.addMember(zebra.id, bob.id);
    store.addMember(zebra.id, bob.id);
    expect(store.memberIds(zebra.id)).toEqual([ali.id, bob.id]);
    expect(store.groupsOf(bob.id).map((group) => group.name)).toEqual(['apple', 'Zebra']);
    expect(store.groupsOf(ali.id).map((group) => group.name)).toEqual(['Zebra']);

    store.removeMember(zebra.id, bob.id);
    expect(store.groupsOf(bob.id).map((group) => group.name)).toEqual(['apple']);
  });

  it('refuse a taken name key on create and rename with StoreConflictError', () => {
    const ali = addUser('Ali');
    const team = store.createGroup('Team', 'team', ali.id, 1);
    const other = store.createGroup('Other', 'other', ali.id, 1);
    expect(() => store.createGroup('TEAM', 'team', ali.id, 2)).toThrow(StoreConflictError);
    expect(() => store.renameGroup(other.id, 'Team', 'team')).toThrow(StoreConflictError);
    expect(store.groupById(other.id)?.name).toBe('Other');
    expect(store.groupsOf(ali.id)).toHaveLength(2);

    store.renameGroup(team.id, 'TEAM', 'team');
    store.renameGroup(other.id, 'Crew', 'crew');
    expect(store.groupsOf(ali.id).map((group) => group.name)).toEqual(['Crew', 'TEAM']);
  });

  it('are deleted with their members and messages, and their id is not reused', () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    const team = store.createGroup('Team', 'team', ali.id, 1);
    store.addMember(team.id, bob.id);
    send(groupMessage(bob, team.id, 'secret'));
    store.deleteGroup(team.id);
    expect(store.groupById(team.id)).toBeUndefined();
    expect(store.memberIds(team.id)).toEqual([]);
    expect(store.groupsOf(bob.id)).toEqual([]);
    expect(store.history(groupConversation(team.id), undefined, 10).messages).toEqual([]);
    expect(store.sync(bob.id, 0, 10).messages).toEqual([]);
    const again = store.createGroup('Team', 'team', ali.id, 2);
    expect(again.id).not.toBe(team.id);
  });

  it('keep invitations, pending or declined, apart from members, until the group is deleted', () => {
    const [ali, bob, carol] = [addUser('Ali'), addUser('Bob'), addUser('Carol')];
    const team = store.createGroup('Team', 'team', ali.id, 1);
    const crew = store.createGroup('Crew', 'crew', ali.id, 1);
    store.invite(team.id, bob.id, ali.id, 10);
    store.invite(crew.id, bob.id, ali.id, 5);
    store.invite(team.id, carol.id, ali.id, 11);
    expect(store.invitationsOf(bob.id).map((row) => row.groupId)).toEqual([crew.id, team.id]);
    expect(store.invitedIds(team.id)).toEqual([bob.id, carol.id]);
    expect(store.memberIds(team.id)).toEqual([ali.id]);

    store.declineInvitation(team.id, carol.id, ali.id, 12);
    expect(store.invitation(team.id, carol.id)).toEqual({ groupId: team.id, userId: carol.id, inviterId: ali.id, state: 'declined', since: 12 });
    expect(store.invitedIds(team.id)).toEqual([bob.id]);
    expect(store.invitationsOf(carol.id)).toEqual([]);

    store.deleteInvitation(crew.id, bob.id);
    expect(store.invitation(crew.id, bob.id)).toBeUndefined();
    store.deleteGroup(team.id);
    expect(store.invitation(team.id, carol.id)).toBeUndefined();
    expect(store.invitationsOf(bob.id)).toEqual([]);
  });
});

describe('membership lines', () => {
  function created(group: GroupRow, actor: UserRow) {
    return { groupId: group.id, actorId: actor.id, event: { kind: 'created', name: group.name }, text: `${actor.name} created the group` };
  }

  it('are stored with the change, in the group history among its messages, found by no search', async () => {
    const [ali, bob] = [addUser('Ali'), addUser('Bob')];
    const { result: team, lines } = store.changeGroups(7, () => {
      const team = store.createGroup('Team', 'team', ali.id, 7);
      store.invite(team.id, bob.id, ali.id, 7);
      return { result: team, events: [created(team, ali), { groupId: team.id, actorId: ali.id, event: { kind: 'invited', user: 'Bob' }, text: 'Ali invited Bob' }] };
    });
    expect(lines.map((line) => line.message)).toEqual([
      { id: 1, conv: groupConversation(team.id), from: 'Ali', groupId: team.id, text: 'Ali created the group', ts: 7, clientMsgId: expect.stringMatching(/^group-event:/), groupEvent: { kind: 'created', name: 'Team' } },
      expect.objectContaining({ id: 2, groupEvent: { kind: 'invited', user: 'Bob' } }),
    ]);
    store.addMember(team.id, bob.id);
    send(groupMessage(bob, team.id, 'Ali created the group, I joined'));
    // Catch-up through the event log sees them too, in order.
    expect(store.events(bob.id, 0, 10).events.map((event) => 'message' in event && event.message?.id)).toEqual([1, 2, 3]);
    expect(store.history(groupConversation(team.id), undefined, 10).messages.map((message) => message.id)).toEqual([1, 2, 3]);
    expect(store.sync(bob.id, 0, 10).messages.map((message) => message.id)).toEqual([1, 2, 3]);
    expect(await searchTexts(bob.id, 'created')).toEqual(['Ali created the group, I joined']);
    expect(await searchTexts(bob.id, '', ali.id)).toEqual([]);
    expectSearchIndexInStep();
    store.deleteGroup(team.id);
    expectSearchIndexInStep();
    expect(store.sync(bob.id, 0, 10).messages).toEqual([]);
  });

  it('are not stored when the change fails, nor is the change', () => {
    const ali = addUser('Ali');
    store.createGroup('Team', 'team', ali.id, 1);
    expect(() =>
      store.changeGroups(2, () => {
        const group = store.createGroup('TEAM', 'team', ali.id, 2);
        return { result: group, events: [created(group, ali)] };
      }),
    ).toThrow(StoreConflictError);
    expect(store.groupsOf(ali.id)).toHaveLength(1);
    expect(store.events(ali.id, 0, 10).events).toEqual([]);
    expect(store.lastMessageId()).toBe(0);
  });
});
