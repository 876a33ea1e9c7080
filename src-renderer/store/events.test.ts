import { describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import { applyEvent } from './events.js';
import { conversationList, ownStatus, pendingFor, totalUnread } from './selectors.js';
import { directMessage, onlineSession, roomMessage, storeAs } from './test-data.js';

const ids = (store: ReturnType<typeof storeAs>, conv = 'room') =>
  (store.getState().timelines[conv]?.messages ?? []).map((message) => message.id);

describe('message events', () => {
  it('keep each conversation ordered by id whatever order they arrive in', () => {
    const store = storeAs('alice');
    for (const id of [5, 2, 9, 7]) applyEvent(store, { type: 'message', message: roomMessage(id, 'bob') });
    expect(ids(store)).toEqual([2, 5, 7, 9]);
  });

  it('hold a repeated message once and count it unread once', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: roomMessage(3, 'bob') });
    applyEvent(store, { type: 'message', message: roomMessage(3, 'bob') });
    expect(ids(store)).toEqual([3]);
    expect(store.getState().unread['room']).toBe(1);
  });

  it('count messages from others in conversations that are not open', () => {
    const store = storeAs('alice');
    store.getState().setActiveConv('group:4');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'bob') });
    applyEvent(store, { type: 'message', message: roomMessage(2, 'carol') });
    expect(store.getState().unread['room']).toBe(2);
    expect(totalUnread(store.getState().unread)).toBe(2);
  });

  it('do not count your own messages, even when written as a differently cased name', () => {
    const store = storeAs('alice');
    store.getState().setActiveConv('group:4');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'Alice') });
    expect(store.getState().unread['room']).toBeUndefined();
  });

  it('do not count messages in the open conversation', () => {
    const store = storeAs('alice');
    store.getState().setActiveConv('room');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'bob') });
    expect(store.getState().unread['room']).toBeUndefined();
  });

  it('opening a conversation marks it read', () => {
    const store = storeAs('alice');
    store.getState().setActiveConv('group:4');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'bob') });
    store.getState().setActiveConv('room');
    expect(store.getState().unread['room']).toBeUndefined();
  });
});

describe('presence while the link is down', () => {
  it('shows nobody online while reconnecting, and keeps who was offline as they were', () => {
    const store = storeAs('alice');
    store.getState().setUsers([
      { name: 'bob', online: true, lastSeen: 1000 },
      { name: 'carol', online: false, lastSeen: 2000 },
    ]);
    applyEvent(store, { type: 'session', session: { ...onlineSession('alice'), status: 'reconnecting' } });
    const users = store.getState().users;
    expect(users['bob']).toMatchObject({ online: false });
    expect(users['bob']!.lastSeen).toBeGreaterThan(1000);
    expect(users['carol']).toEqual({ name: 'carol', online: false, lastSeen: 2000 });
  });
});

describe('direct conversation naming', () => {
  it('names a conversation after the sender when someone writes to you', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: directMessage(1, 'bob', 'alice', 'dm:1:2') });
    expect(store.getState().dmPeers['dm:1:2']).toBe('bob');
  });

  it('names a conversation after the recipient when you wrote from another device', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: directMessage(1, 'alice', 'carol', 'dm:1:3') });
    expect(store.getState().dmPeers['dm:1:3']).toBe('carol');
  });

  it('lists a direct conversation with its unread count and target', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: directMessage(1, 'bob', 'alice', 'dm:1:2') });
    const group: GroupInfo = { id: 4, name: 'Team', owner: 'alice', members: ['alice'], conv: 'group:4', invited: [] };
    applyEvent(store, { type: 'group', group });
    const list = conversationList(store.getState(), 'Office');
    expect(list.map((entry) => [entry.name, entry.unread])).toEqual([
      ['Office', 0],
      ['bob', 1],
      ['Team', 0],
    ]);
    expect(list[1]?.target).toEqual({ kind: 'dm', user: 'bob' });
  });
});

describe('outbox events', () => {
  const target = { kind: 'room' } as const;
  const outbox = (status: 'queued' | 'sent' | 'delivered' | 'failed', extra: Partial<AppEvent> = {}): AppEvent => ({
    type: 'outbox',
    clientMsgId: 'c7',
    status,
    target,
    text: 'hello',
    ts: 1,
    ...extra,
  }) as AppEvent;

  it('show a queued message as pending in its conversation', () => {
    const store = storeAs('alice');
    applyEvent(store, outbox('queued'));
    expect(pendingFor(store.getState(), 'room').map((entry) => [entry.text, entry.status])).toEqual([['hello', 'queued']]);
  });

  it('turn a pending message into a stored one once the host stored it', () => {
    const store = storeAs('alice');
    applyEvent(store, outbox('queued'));
    const stored = roomMessage(7, 'alice', 'hello');
    applyEvent(store, outbox('sent', { message: stored }));
    expect(pendingFor(store.getState(), 'room')).toEqual([]);
    expect(ids(store)).toEqual([7]);
    expect(ownStatus(store.getState(), stored)).toBe('sent');
    expect(store.getState().unread['room']).toBeUndefined();
  });

  it('mark a message delivered and never step back to sent', () => {
    const store = storeAs('alice');
    const stored = roomMessage(7, 'alice', 'hello');
    applyEvent(store, outbox('sent', { message: stored }));
    applyEvent(store, outbox('delivered', { message: stored }));
    applyEvent(store, outbox('sent', { message: stored }));
    expect(ownStatus(store.getState(), stored)).toBe('delivered');
  });

  it('keep a refused message visible as failed with its reason', () => {
    const store = storeAs('alice');
    applyEvent(store, outbox('queued'));
    applyEvent(store, outbox('failed', { error: { code: 'CHAT_DECLINED', message: 'bob declined' } }));
    const [entry] = pendingFor(store.getState(), 'room');
    expect(entry?.status).toBe('failed');
    expect(entry?.error?.code).toBe('CHAT_DECLINED');
  });

  it('place a pending direct message in the conversation of its contact', () => {
    const store = storeAs('alice');
    store.getState().setContacts([{ name: 'bob', state: 'accepted', conv: 'dm:1:2', since: 1 }]);
    applyEvent(store, { ...outbox('queued'), target: { kind: 'dm', user: 'Bob' } } as AppEvent);
    expect(pendingFor(store.getState(), 'dm:1:2')).toHaveLength(1);
    expect(pendingFor(store.getState(), 'room')).toHaveLength(0);
  });
});

describe('delivered events', () => {
  it('mark your direct messages delivered up to the reported id only', () => {
    const store = storeAs('alice');
    const first = directMessage(3, 'alice', 'bob');
    const second = directMessage(8, 'alice', 'bob');
    applyEvent(store, { type: 'message', message: first });
    applyEvent(store, { type: 'message', message: second });
    applyEvent(store, { type: 'delivered', conv: 'dm:1:2', upTo: 5 });
    expect(ownStatus(store.getState(), first)).toBe('delivered');
    expect(ownStatus(store.getState(), second)).toBe('sent');
  });
});

describe('presence events', () => {
  it('update online state and last seen and add a join or leave notice to the room', () => {
    const store = storeAs('alice');
    store.getState().setUsers([{ name: 'bob', online: true, lastSeen: 10 }]);
    applyEvent(store, { type: 'presence', users: [{ user: 'bob', online: false, ts: 500 }] });
    expect(store.getState().users['bob']).toEqual({ name: 'bob', online: false, lastSeen: 500 });
    applyEvent(store, { type: 'presence', users: [{ user: 'carol', online: true, ts: 600 }] });
    expect(store.getState().users['carol']?.online).toBe(true);
    expect(store.getState().notices['room']).toEqual([
      { kind: 'left', user: 'bob', ts: 500 },
      { kind: 'joined', user: 'carol', ts: 600 },
    ]);
  });

  it('apply every user a push lists, in its order', () => {
    const store = storeAs('alice');
    store.getState().setUsers([{ name: 'Bob', online: false, lastSeen: 10 }]);
    applyEvent(store, {
      type: 'presence',
      users: [
        { user: 'bob', online: true, ts: 500 },
        { user: 'dave', online: true, ts: 510 },
        { user: 'carol', online: false, ts: 520 },
      ],
    });
    expect(store.getState().users).toEqual({
      bob: { name: 'Bob', online: true, lastSeen: 500 },
      dave: { name: 'dave', online: true, lastSeen: 510 },
      carol: { name: 'carol', online: false, lastSeen: 520 },
    });
    expect(store.getState().notices['room']).toEqual([
      { kind: 'joined', user: 'bob', ts: 500 },
      { kind: 'joined', user: 'dave', ts: 510 },
      { kind: 'left', user: 'carol', ts: 520 },
    ]);
  });
  it('cost the store as many updates for a push of fifty users as for one', () => {
    const updatesFor = (count: number): number => {
      const store = storeAs('alice');
      let updates = 0;
      store.subscribe(() => (updates += 1));
      const users = Array.from({ length: count }, (_, index) => ({ user: `user${index}`, online: true, ts: 500 + index }));
      applyEvent(store, { type: 'presence', users });
      expect(store.getState().notices['room']).toHaveLength(count);
      return updates;
    };
    expect(updatesFor(50)).toBe(updatesFor(1));
  });
});

describe('chat request events', () => {
  it('add an incoming request from someone else', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'chatRequest', from: 'bob', to: 'alice', ts: 5 });
    expect(store.getState().contacts['bob']).toMatchObject({ name: 'bob', state: 'incoming', conv: null });
  });

  it('record a request you made on another device as outgoing to its recipient', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'chatRequest', from: 'Alice', to: 'carol', ts: 5 });
    expect(store.getState().contacts['carol']?.state).toBe('outgoing');
    expect(store.getState().contacts['alice']).toBeUndefined();
  });

  it('resolve your request when the other side answers, keeping its conversation', () => {
    const store = storeAs('alice');
    store.getState().upsertContact({ name: 'carol', state: 'outgoing', conv: 'dm:1:3', since: 1 });
    applyEvent(store, { type: 'chatAnswer', from: 'carol', to: 'alice', accepted: false, ts: 9 });
    expect(store.getState().contacts['carol']).toMatchObject({ state: 'declined-by-them', conv: 'dm:1:3' });
  });

  it('resolve a request you answered on another device', () => {
    const store = storeAs('alice');
    store.getState().upsertContact({ name: 'bob', state: 'incoming', conv: 'dm:1:2', since: 1 });
    applyEvent(store, { type: 'chatAnswer', from: 'alice', to: 'bob', accepted: true, ts: 9 });
    expect(store.getState().contacts['bob']?.state).toBe('accepted');
  });

  it('drop the contact when either side leaves the chat', () => {
    const store = storeAs('alice');
    store.getState().upsertContact({ name: 'bob', state: 'accepted', conv: 'dm:1:2', since: 1 });
    store.getState().upsertContact({ name: 'carol', state: 'accepted', conv: 'dm:1:3', since: 1 });
    applyEvent(store, { type: 'chatLeft', user: 'bob', with: 'alice', ts: 9 });
    applyEvent(store, { type: 'chatLeft', user: 'alice', with: 'carol', ts: 9 });
    expect(store.getState().contacts).toEqual({});
  });
});

describe('group events', () => {
  const team: GroupInfo = { id: 4, name: 'Team', owner: 'bob', members: ['alice', 'bob'], conv: 'group:4', invited: [] };

  it('add and update groups', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'group', group: team });
    applyEvent(store, { type: 'group', group: { ...team, name: 'Core team' } });
    expect(Object.values(store.getState().groups).map((group) => group.name)).toEqual(['Core team']);
  });

  it('leave a removed group for the room and forget its unread count', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'group', group: team });
    store.getState().setActiveConv('group:4');
    applyEvent(store, { type: 'message', message: { ...roomMessage(1, 'bob'), conv: 'group:4', groupId: 4 } });
    applyEvent(store, { type: 'groupRemoved', groupId: 4, name: 'Team', reason: 'removed' });
    const state = store.getState();
    expect(state.groups[4]).toBeUndefined();
    expect(state.activeConv).toBe('room');
    expect(state.timelines['group:4']).toBeUndefined();
    // Not a silent vanishing (issue 38): the room says so.
    expect(state.notices.room?.at(-1)).toMatchObject({ kind: 'groupLeft', user: 'Team' });
    applyEvent(store, { type: 'groupRemoved', groupId: 5, name: 'Old', reason: 'deleted' });
    expect(store.getState().notices.room?.at(-1)).toMatchObject({ kind: 'groupDeleted', user: 'Old' });
  });

  it('count no membership line as unread', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'group', group: team });
    const line = { ...roomMessage(1, 'bob'), conv: 'group:4', groupId: 4, text: 'bob invited carol', groupEvent: { kind: 'invited', user: 'carol' } };
    applyEvent(store, { type: 'message', message: line });
    applyEvent(store, { type: 'message', message: { ...roomMessage(2, 'bob'), conv: 'group:4', groupId: 4 } });
    const entry = conversationList(store.getState(), 'Office').find((conversation) => conversation.conv === 'group:4');
    expect(entry?.unread).toBe(1);
    expect(store.getState().timelines['group:4']?.messages.map((message) => message.id)).toEqual([1, 2]);
  });

  it('replace the invitations with each push', () => {
    const store = storeAs('alice');
    const invitation = { groupId: 7, name: 'Crew', inviter: 'bob', since: 5 };
    applyEvent(store, { type: 'groupInvitations', invitations: [invitation] });
    expect(store.getState().invitations).toEqual([invitation]);
    applyEvent(store, { type: 'groupInvitations', invitations: [] });
    expect(store.getState().invitations).toEqual([]);
  });
});

describe('chat notices', () => {
  it('tell the other side in the conversation that the chat was ended', () => {
    const store = storeAs('alice');
    store.getState().upsertContact({ name: 'bob', state: 'accepted', conv: 'dm:1:2', since: 1 });
    applyEvent(store, { type: 'chatLeft', user: 'bob', with: 'alice', ts: 9 });
    expect(store.getState().notices['dm:1:2']).toEqual([{ kind: 'chatEnded', user: 'bob', ts: 9 }]);
  });
});

describe('sidebar order', () => {
  it('list the room first, then conversations by their newest message, quiet ones last', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: directMessage(1, 'bob', 'alice', 'dm:1:2') });
    for (const id of [4, 5]) applyEvent(store, { type: 'group', group: { id, name: `G${id}`, owner: 'alice', members: ['alice'], conv: `group:${id}`, invited: [] } });
    applyEvent(store, { type: 'message', message: { ...roomMessage(3, 'alice'), conv: 'group:5', groupId: 5 } });
    const list = conversationList(store.getState(), 'Office');
    expect(list.map((entry) => entry.name)).toEqual(['Office', 'G5', 'bob', 'G4']);
    expect(list[1]?.latest?.id).toBe(3);
  });
});

describe('session events', () => {
  it('forget the room after switching to another user', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'bob') });
    applyEvent(store, { type: 'session', session: onlineSession('bob') });
    expect(store.getState().timelines).toEqual({});
    expect(store.getState().session.me).toBe('bob');
  });

  it('keep the room while reconnecting and remember the error', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'message', message: roomMessage(1, 'bob') });
    const error = { code: 'HOST_GONE', message: 'connection reset' };
    applyEvent(store, { type: 'session', session: { ...onlineSession('alice'), status: 'reconnecting', error } });
    applyEvent(store, { type: 'session', session: onlineSession('alice') });
    expect(ids(store)).toEqual([1]);
    expect(store.getState().lastError).toEqual(error);
  });
});

describe('host events', () => {
  it('keep the pending approvals the host sees, and forget them with the room', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'hostPending', users: [{ name: 'bob', createdAt: 1 }] });
    expect(store.getState().hostPending.map((user) => user.name)).toEqual(['bob']);
    applyEvent(store, { type: 'hostPending', users: [] });
    expect(store.getState().hostPending).toEqual([]);
    applyEvent(store, { type: 'hostPending', users: [{ name: 'eve', createdAt: 2 }] });
    store.getState().resetRoom();
    expect(store.getState().hostPending).toEqual([]);
  });
});
