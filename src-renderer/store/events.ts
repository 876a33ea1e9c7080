import type { AppEvent, SessionView } from '../../src-shared/api.js';
import type { ChatMessage, ConversationEvent } from '../../src-shared/protocol/objects.js';
import { ROOM, groupConversation } from '../../src-shared/protocol/conversation.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { nameKey, sameName } from '../../src-shared/protocol/names.js';
import type { AppStore } from './index.js';
import { findMessage } from './messages.js';
import { noteE2ee } from './e2ee.js';

/** Who is logged in where; null when nobody is. */
function sessionIdentity(session: SessionView): string | null {
  if (session.me === null) return null;
  return `${nameKey(session.me)}@${session.server?.host ?? ''}:${session.server?.port ?? ''}`;
}

export function sameIdentity(a: SessionView, b: SessionView): boolean {
  return sessionIdentity(a) === sessionIdentity(b);
}

/**
 * Applies one App API event to the store. Pure state changes: follow-up calls live in sync.ts.
 * The pushes the app forwards from the room (api.ts) arrive here as events of the same type.
 */
export function applyEvent(store: AppStore, event: AppEvent): void {
  const state = store.getState();
  switch (event.type) {
    case 'session':
      if (sessionIdentity(state.session) !== null && !sameIdentity(state.session, event.session)) state.resetRoom();
      else if (state.session.status === 'online' && event.session.status !== 'online') presenceUnknown(store);
      state.setSession(event.session);
      return;
    case 'message':
      receiveMessage(store, event.message);
      return;
    case 'outbox':
      state.updateOutbox(event);
      if (event.message) receiveMessage(store, event.message);
      return;
    case 'presence':
      state.applyPresence(event.users);
      state.addNotices(
        ROOM,
        event.users.map(({ user, online, ts }) => ({ kind: online ? 'joined' : 'left', user, ts })),
      );
      return;
    case 'chatRequest':
      if (sameName(event.from, state.session.me)) state.setContactState(event.to, 'outgoing', event.ts);
      else state.setContactState(event.from, 'incoming', event.ts);
      return;
    case 'chatAnswer':
      // From yourself it is your own answer, given on another device.
      if (sameName(event.from, state.session.me)) {
        state.setContactState(event.to, event.accepted ? 'accepted' : 'declined-by-me', event.ts);
      } else {
        state.setContactState(event.from, event.accepted ? 'accepted' : 'declined-by-them', event.ts);
      }
      return;
    case 'chatLeft': {
      const other = sameName(event.user, state.session.me) ? event.with : event.user;
      const conv = state.contacts[nameKey(other)]?.conv;
      if (conv) state.addNotices(conv, [{ kind: 'chatEnded', user: event.user, ts: event.ts }]);
      state.removeContact(other);
      return;
    }
    case 'group':
      state.upsertGroup(event.group);
      return;
    case 'groupInvitations':
      state.setInvitations(event.invitations);
      return;
    case 'groupRemoved':
      state.removeGroup(event.groupId);
      state.forgetConversation(groupConversation(event.groupId));
      // Not a silent vanishing: the room, where the app goes if the group was open, says what happened.
      state.addNotices(ROOM, [{ kind: event.reason === 'deleted' ? 'groupDeleted' : 'groupLeft', user: event.name, ts: Date.now() }]);
      return;
    case 'hostLog':
      state.appendHostLog(event.entry);
      return;
    case 'hostUsers':
      state.setHostUsers(event.users);
      return;
    case 'hostPending':
      state.setHostPending(event.users);
      return;
    case 'hostBans':
      state.setHostBans(event.bans);
      return;
    case 'delivered':
      state.markDelivered(event.conv, event.upTo);
      return;
    case 'settings':
      state.setSettings(event.settings);
      return;
    case 'event':
      applyConversationEvent(store, event.event);
      return;
    case 'typing': {
      if (sameName(event.user, state.session.me)) return;
      // Shown until two of the sender's intervals pass without another frame.
      const interval = state.session.limits?.typingIntervalMs ?? LIMITS.typingIntervalMs;
      state.noteTyping(event.conv, event.user, Date.now() + 2 * interval);
      return;
    }
    case 'transfer':
      state.applyTransfer(event);
      return;
    case 'e2eeNotice':
      noteE2ee(store, event);
      return;
    case 'call':
      state.upsertCall(event.call);
      return;
    // Not the store's: the main window's calls (calls/controller.ts) answer signals.
    case 'callSignal':
    case 'callUnverified':
      return;
    // Not the store's: the Join screen lists the rooms (RoomsNearby), sync.ts opens the conversation.
    case 'nearbyRooms':
    case 'showConversation':
      return;
    default:
      // Every event has its case above: a type added to AppEvent does not compile until it has one.
      event satisfies never;
  }
}

function applyConversationEvent(store: AppStore, event: ConversationEvent): void {
  const state = store.getState();
  if (event.kind === 'message') {
    receiveMessage(store, event.message);
  } else if (event.kind !== 'read') {
    state.replaceMessage(event.message);
  } else if (sameName(event.user, state.session.me)) {
    state.noteRead(event.conv, event.upTo);
  } else {
    state.noteReceipt(event.conv, { user: event.user, upTo: event.upTo });
  }
}

/** Whether the message names you (the server lists whom it mentions). */
export function mentionsMe(message: ChatMessage, me: string | null): boolean {
  return message.mentions?.some((name) => sameName(name, me)) ?? false;
}

/**
 * Without a link nobody's presence is known: people shown online are shown as last seen now,
 * until the reconnected session loads the room's users again.
 */
function presenceUnknown(store: AppStore): void {
  const { users, setUsers } = store.getState();
  const now = Date.now();
  setUsers(Object.values(users).map((user) => (user.online ? { ...user, online: false, lastSeen: now } : user)));
}

/** Whether the message is already held (a repeat after a reconnect or from another path). */
export function holdsMessage(store: AppStore, message: ChatMessage): boolean {
  const timeline = store.getState().timelines[message.conv];
  return timeline !== undefined && findMessage(timeline.messages, message.id) !== undefined;
}

function receiveMessage(store: AppStore, message: ChatMessage): void {
  if (holdsMessage(store, message)) return;
  const state = store.getState();
  state.addMessage(message);
  state.noteLatest(message);
  const mine = sameName(message.from, state.session.me);
  if (message.to !== undefined) state.nameDm(message.conv, mine ? message.to : message.from);
  state.stopTyping(message.conv, message.from);
  // A membership line is not something to read (docs/PROTOCOL.md §6.4.1); of the call lines only a missed call is.
  if (mine || message.groupEvent || (message.callEvent && message.callEvent.kind !== 'missed') || message.conv === state.activeConv || message.id <= (state.readUpTo[message.conv] ?? 0)) return;
  state.countUnread(message.conv);
  if (mentionsMe(message, state.session.me)) state.countMention(message.conv);
}
