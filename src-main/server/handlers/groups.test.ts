import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { collectMessages, nextEvent } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

describe('groups', () => {
  it('lets the owner manage a group whose messages reach members only', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const { group } = await alice.request('groupCreate', { name: 'Project Team' });
    const bobAdded = nextEvent(bob, 'group');
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    expect((await bobAdded)[0].group.members).toEqual(['alice', 'bob']);

    const carolMessages = collectMessages(carol);
    const atBob = nextEvent(bob, 'message');
    await alice.send({ kind: 'group', groupId: group.id }, 'team meeting at 3');
    expect((await atBob)[0]).toMatchObject({ groupId: group.id, text: 'team meeting at 3' });
    const atAlice = nextEvent(alice, 'message');
    await bob.send({ kind: 'group', groupId: group.id }, 'ok');
    expect((await atAlice)[0]).toMatchObject({ from: 'bob', text: 'ok' });

    await expect(carol.request('groupInfo', { groupId: group.id })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_GROUP });
    await expect(carol.request('history', { conv: group.conv })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    await expect(carol.send({ kind: 'group', groupId: group.id }, 'let me in')).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_GROUP,
    });
    await expect(bob.request('groupRename', { groupId: group.id, name: 'Mine' })).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    await expect(bob.request('groupAddMember', { groupId: group.id, user: 'carol' })).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    await expect(bob.request('groupDelete', { groupId: group.id })).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    expect(carolMessages.texts()).toEqual([]);

    expect((await alice.request('groupRename', { groupId: group.id, name: 'Core Team' })).group.name).toBe('Core Team');
    expect((await bob.request('groups')).groups.map((g) => g.name)).toEqual(['Core Team']);

    const removed = nextEvent(bob, 'groupRemoved');
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    expect((await removed)[0]).toMatchObject({ groupId: group.id, reason: 'removed' });
    await expect(bob.request('history', { conv: group.conv })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });

    await alice.request('groupDelete', { groupId: group.id });
    expect((await alice.request('groups')).groups).toEqual([]);
  });

  it('refuses duplicate group names and lets a member leave but not the owner', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const { group } = await alice.request('groupCreate', { name: 'Friends' });
    await expect(bob.request('groupCreate', { name: 'friends' })).rejects.toMatchObject({ code: ErrorCode.GROUP_EXISTS });
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    await bob.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await expect(alice.request('groupRemoveMember', { groupId: group.id, user: 'alice' })).rejects.toMatchObject({ code: ErrorCode.INVALID_TARGET });
  });

  it('answers a resend to a group the sender was removed from with UNKNOWN_GROUP, not the stored message', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const { group } = await alice.request('groupCreate', { name: 'Leavers' });
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    const to = { kind: 'group' as const, groupId: group.id };
    await bob.request('send', { clientMsgId: 'g1', to, text: 'hello group' });
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await expect(bob.request('send', { clientMsgId: 'g1', to, text: 'hello group' })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_GROUP,
    });
  });
});
