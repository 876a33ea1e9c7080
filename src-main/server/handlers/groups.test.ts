import { describe, expect, it } from 'vitest';
import { ChatClient } from '../../client/client.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import { collectMessages, folderHolds, login, nextEvent, waitFor } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

/** Creates a group owned by `owner` whose other members accepted their invitations. */
async function groupWith(owner: ChatClient, name: string, members: ChatClient[]) {
  const { group } = await owner.request('groupCreate', { name, members: members.map((member) => member.session!.login.name) });
  for (const member of members) await member.request('groupAnswer', { groupId: group.id, accept: true });
  return (await owner.request('groupInfo', { groupId: group.id })).group;
}

/** Collects the membership lines a client receives, as their English text. */
function collectLines(client: ChatClient): () => string[] {
  const lines: string[] = [];
  client.on('message', (message: ChatMessage) => {
    if (message.groupEvent) lines.push(message.text);
  });
  return () => lines;
}

describe('groups', () => {
  it('lets the owner manage a group whose messages reach members only', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const group = await groupWith(alice, 'Project Team', [bob]);
    expect(group.members).toEqual(['alice', 'bob']);

    const carolMessages = collectMessages(carol);
    const atBob = nextEvent(bob, 'message', (message) => !message.groupEvent);
    await alice.send({ kind: 'group', groupId: group.id }, 'team meeting at 3');
    expect((await atBob)[0]).toMatchObject({ groupId: group.id, text: 'team meeting at 3' });
    const atAlice = nextEvent(alice, 'message', (message) => !message.groupEvent);
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
    const group = await groupWith(alice, 'Friends', [bob]);
    await expect(bob.request('groupCreate', { name: 'friends' })).rejects.toMatchObject({ code: ErrorCode.GROUP_EXISTS });
    await bob.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await expect(alice.request('groupRemoveMember', { groupId: group.id, user: 'alice' })).rejects.toMatchObject({ code: ErrorCode.INVALID_TARGET });
  });

  it('answers a resend to a group the sender was removed from with UNKNOWN_GROUP, not the stored message', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const group = await groupWith(alice, 'Leavers', [bob]);
    const to = { kind: 'group' as const, groupId: group.id };
    await bob.request('send', { clientMsgId: 'g1', to, text: 'hello group' });
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await expect(bob.request('send', { clientMsgId: 'g1', to, text: 'hello group' })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_GROUP,
    });
    // Sent again to the room, as a client reusing the id would: the id names the group's message still.
    await expect(bob.request('send', { clientMsgId: 'g1', to: { kind: 'room' }, text: 'hello group' })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_GROUP,
    });
    expect((await bob.request('history', { conv: 'room' })).messages.filter((message) => message.text === 'hello group')).toEqual([]);
  });

  it('takes a deleted group’s messages out of every file of the host’s folder, its write-ahead log included, soon after', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const group = await groupWith(alice, 'Vault', [bob]);
    await bob.send({ kind: 'group', groupId: group.id }, 'pangolin-4471 the vault code');
    expect(folderHolds(room.dir, 'pangolin-4471')).toBe(true);
    await alice.request('groupDelete', { groupId: group.id });
    await waitFor(() => !folderHolds(room.dir, 'pangolin-4471'), 'the deleted group’s text to leave the files');
    expect((await alice.send({ kind: 'room' }, 'still here')).text).toBe('still here');
  });
});

describe('group invitations', () => {
  it('make nobody a member until they accept, and tell the invitee on every session', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const bobElsewhere = room.track(await login(room.host, 'bob', 'bob-secret'));
    const invited = nextEvent(bob, 'groupInvitations');
    const invitedElsewhere = nextEvent(bobElsewhere, 'groupInvitations');
    const { group } = await alice.request('groupCreate', { name: 'Team', members: ['BOB'] });
    expect(group).toMatchObject({ members: ['alice'], invited: ['bob'] });
    const [push] = await invited;
    expect(push.invitations).toEqual([{ groupId: group.id, name: 'Team', inviter: 'alice', since: expect.any(Number) }]);
    expect((await invitedElsewhere)[0].invitations).toHaveLength(1);

    // Invited is not in: nothing of the group can be read or written yet.
    await expect(bob.request('history', { conv: group.conv })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    await expect(bob.send({ kind: 'group', groupId: group.id }, 'hi')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_GROUP });
    expect((await bob.request('groups')).groups).toEqual([]);

    const ownerSees = nextEvent(alice, 'group', (frame) => frame.group.members.includes('bob'));
    const answered = nextEvent(bobElsewhere, 'groupInvitations');
    const joined = await bob.request('groupAnswer', { groupId: group.id, accept: true });
    expect(joined.group).toMatchObject({ members: ['alice', 'bob'], invited: [] });
    expect((await ownerSees)[0].group.invited).toEqual([]);
    expect((await answered)[0].invitations).toEqual([]);
    await expect(bob.request('groupAnswer', { groupId: group.id, accept: true })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_GROUP });
  });

  it('refuse inviting someone who declined your chat request, at creation and later, and change nothing', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    await expect(alice.request('groupCreate', { name: 'Trap', members: ['carol', 'bob'] })).rejects.toMatchObject({
      code: ErrorCode.CHAT_DECLINED,
    });
    expect((await alice.request('groups')).groups).toEqual([]);
    expect((await carol.request('groupInvitations')).invitations).toEqual([]);

    const { group } = await alice.request('groupCreate', { name: 'Trap' });
    await expect(alice.request('groupAddMember', { groupId: group.id, user: 'bob' })).rejects.toMatchObject({
      code: ErrorCode.CHAT_DECLINED,
    });
    expect((await bob.request('groupInvitations')).invitations).toEqual([]);
    expect((await alice.request('groupInfo', { groupId: group.id })).group.invited).toEqual([]);
    // bob may still invite alice: only the one who was declined is held back.
    const { group: bobs } = await bob.request('groupCreate', { name: 'Bobs', members: ['alice'] });
    expect(bobs.invited).toEqual(['alice']);
  });

  it('refuse inviting again someone who declined or left, but not someone the owner removed', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const { group } = await alice.request('groupCreate', { name: 'Persistent', members: ['bob', 'carol'] });
    const ownerSees = nextEvent(alice, 'group', (frame) => frame.group.invited.length === 1);
    expect(await bob.request('groupAnswer', { groupId: group.id, accept: false })).toEqual({});
    expect((await ownerSees)[0].group).toMatchObject({ members: ['alice'], invited: ['carol'] });
    await expect(alice.request('groupAddMember', { groupId: group.id, user: 'bob' })).rejects.toMatchObject({
      code: ErrorCode.INVITATION_DECLINED,
    });

    await carol.request('groupAnswer', { groupId: group.id, accept: true });
    await carol.request('groupRemoveMember', { groupId: group.id, user: 'carol' });
    await expect(alice.request('groupAddMember', { groupId: group.id, user: 'carol' })).rejects.toMatchObject({
      code: ErrorCode.INVITATION_DECLINED,
    });
    expect((await carol.request('groupInvitations')).invitations).toEqual([]);

    const { group: other } = await alice.request('groupCreate', { name: 'Other', members: ['bob'] });
    await bob.request('groupAnswer', { groupId: other.id, accept: true });
    await alice.request('groupRemoveMember', { groupId: other.id, user: 'bob' });
    expect((await alice.request('groupAddMember', { groupId: other.id, user: 'bob' })).group.invited).toEqual(['bob']);
  });

  it('can be withdrawn by the owner, and count towards the members limit', async () => {
    await room.restart({ limits: { maxGroupMembers: 2 } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await room.user('carol');
    const { group } = await alice.request('groupCreate', { name: 'Small', members: ['bob'] });
    await expect(alice.request('groupAddMember', { groupId: group.id, user: 'carol' })).rejects.toMatchObject({
      code: ErrorCode.LIMIT_REACHED,
    });
    await expect(alice.request('groupCreate', { name: 'Big', members: ['bob', 'carol'] })).rejects.toMatchObject({
      code: ErrorCode.LIMIT_REACHED,
    });
    const withdrawn = nextEvent(bob, 'groupInvitations');
    expect((await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' })).group.invited).toEqual([]);
    expect((await withdrawn)[0].invitations).toEqual([]);
    await expect(bob.request('groupAnswer', { groupId: group.id, accept: true })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_GROUP });
    expect((await alice.request('groupAddMember', { groupId: group.id, user: 'carol' })).group.invited).toEqual(['carol']);
  });

  it('wait for an offline invitee, across a restart of the host, and follow renames and deletion', async () => {
    const alice = await room.user('alice');
    (await room.user('bob')).close();
    const { group } = await alice.request('groupCreate', { name: 'Later', members: ['bob'] });
    await room.restart();
    const bob = await room.user('bob');
    expect((await bob.request('groupInvitations')).invitations).toMatchObject([{ groupId: group.id, name: 'Later', inviter: 'alice' }]);

    const owner = await room.user('alice');
    const renamed = nextEvent(bob, 'groupInvitations');
    await owner.request('groupRename', { groupId: group.id, name: 'Sooner' });
    expect((await renamed)[0].invitations).toMatchObject([{ groupId: group.id, name: 'Sooner' }]);
    const deleted = nextEvent(bob, 'groupInvitations');
    await owner.request('groupDelete', { groupId: group.id });
    expect((await deleted)[0].invitations).toEqual([]);
  });
});

describe('mute', () => {
  it('keeps a muted user from creating, renaming and inviting, and changes nothing', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const { group } = await alice.request('groupCreate', { name: 'Before' });
    await room.host.server.admin.mute('alice', 5);
    await expect(alice.request('groupCreate', { name: 'Spam' })).rejects.toMatchObject({ code: ErrorCode.MUTED });
    await expect(alice.request('groupRename', { groupId: group.id, name: 'Buy now' })).rejects.toMatchObject({ code: ErrorCode.MUTED });
    await expect(alice.request('groupAddMember', { groupId: group.id, user: 'bob' })).rejects.toMatchObject({ code: ErrorCode.MUTED });
    expect((await alice.request('groups')).groups).toMatchObject([{ name: 'Before', invited: [] }]);
    expect((await bob.request('groupInvitations')).invitations).toEqual([]);
    // Leaving and deleting reach nobody new: still allowed.
    await alice.request('groupDelete', { groupId: group.id });
    await room.host.server.admin.unmute('alice');
    await alice.request('groupCreate', { name: 'Spam' });
  });
});

describe('membership lines', () => {
  it('reach every member live, in order with the messages, and stay in history for catch-up', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    await room.user('dave');
    const aliceLines = collectLines(alice);
    const group = await groupWith(alice, 'Team', [carol]);
    const carolLines = collectLines(carol);
    await alice.request('groupAddMember', { groupId: group.id, user: 'bob' });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    await alice.send({ kind: 'group', groupId: group.id }, 'welcome');
    await alice.request('groupRename', { groupId: group.id, name: 'Core' });
    await alice.request('groupAddMember', { groupId: group.id, user: 'dave' });
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await carol.request('groupRemoveMember', { groupId: group.id, user: 'carol' });
    await alice.request('groups');

    const all = [
      'alice created the group “Team”',
      'alice invited carol',
      'carol joined',
      'alice invited bob',
      'bob joined',
      'alice renamed the group to “Core”',
      'alice invited dave',
      'alice removed bob',
      'carol left',
    ];
    expect(aliceLines()).toEqual(all);
    expect(carolLines()).toEqual(all.slice(3, 8));

    const history = await alice.request('history', { conv: group.conv });
    expect(history.messages.map((message) => message.text)).toEqual([...all.slice(0, 5), 'welcome', ...all.slice(5)]);
    expect(history.messages.find((message) => message.text === 'alice removed bob')).toMatchObject({
      from: 'alice',
      groupId: group.id,
      groupEvent: { kind: 'removed', user: 'bob' },
    });
    const synced = await alice.request('sync', { after: 0 });
    expect(synced.messages.filter((message) => message.groupEvent).map((message) => message.text)).toEqual(all);

    // Nobody changes or answers a line, not even the one it names as the actor.
    const line = history.messages.find((message) => message.text === 'alice renamed the group to “Core”')!;
    const refused = { code: ErrorCode.UNKNOWN_MESSAGE };
    await expect(alice.request('edit', { messageId: line.id, text: 'alice renamed nothing' })).rejects.toMatchObject(refused);
    await expect(alice.request('delete', { messageId: line.id })).rejects.toMatchObject(refused);
    await expect(alice.request('react', { messageId: line.id, emoji: '👍', on: true })).rejects.toMatchObject(refused);
    await expect(alice.send({ kind: 'group', groupId: group.id }, 'about that', undefined, line.id)).rejects.toMatchObject(refused);
  });

  it('reach a member who was away when the client catches up, through the event log', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const group = await groupWith(alice, 'Away', [bob]);
    const cursors = { lastEventId: bob.lastEventId, lastMessageId: bob.lastMessageId };
    bob.close();
    await alice.request('groupRename', { groupId: group.id, name: 'Back' });
    await alice.send({ kind: 'group', groupId: group.id }, 'while you were out');
    const texts: string[] = [];
    const again = room.track(new ChatClient({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', ...cursors }));
    again.on('message', (message) => texts.push(message.text));
    await again.connect();
    await waitFor(() => texts.length === 2);
    expect(texts).toEqual(['alice renamed the group to “Back”', 'while you were out']);
  });

  it('are not found by search, with or without a person', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const group = await groupWith(alice, 'Searchers', [bob]);
    await alice.send({ kind: 'group', groupId: group.id }, 'joined the search');
    for (const query of ['created', 'joined', 'bob', 'Searchers']) {
      const texts = (await bob.request('search', { query })).hits.map((hit) => hit.message.text);
      expect(texts.filter((text) => text !== 'joined the search'), query).toEqual([]);
    }
    expect((await bob.request('search', { query: '', person: 'alice' })).hits.map((hit) => hit.message.text)).toEqual(['joined the search']);
    expect((await alice.request('search', { query: '', person: 'bob' })).hits).toEqual([]);
  });

  it('are not counted unread', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const group = await groupWith(alice, 'Counted', [bob]);
    await alice.request('groupRename', { groupId: group.id, name: 'Still counted' });
    const unread = async () => (await bob.request('readState')).conversations.find((entry) => entry.conv === group.conv)?.unread;
    expect(await unread()).toBe(0);
    await alice.send({ kind: 'group', groupId: group.id }, 'one to read');
    expect(await unread()).toBe(1);
  });

  it('are announced in hello with protocol 1.1', async () => {
    const alice = await room.user('alice');
    expect(alice.session!.hello).toMatchObject({ protocol: '1.2', features: expect.arrayContaining(['group-invitations', 'group-events']) });
  });
});
