import { describe, expect, it } from 'vitest';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { StoreConflictError } from './types.js';
import { addUser, groupMessage, send, store, useTestStore } from './test-store.js';

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
});
