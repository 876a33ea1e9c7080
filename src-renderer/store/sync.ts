/**
 * Actions that talk to the App API and feed the answers into the store. Every
 * call's Result is returned so the caller can show its error.
 */
import type { AppApi, AppEvent, HostRequest, JoinRequest, Result, SessionView, Settings } from '../../src-shared/api.js';
import type { ChatMessage, Contact } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, conversationKind } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { matchPerson } from '../lib/person-match.js';
import { applyEvent, holdsMessage, sameIdentity } from './events.js';
import type { AppState, AppStore } from './index.js';
import { EMPTY_TIMELINE, findMessage } from './messages.js';

export interface AppContext {
  store: AppStore;
  api: AppApi;
}

export interface SyncHooks {
  /** A message from someone else arrived that this window had not seen. */
  onIncoming?(message: ChatMessage): void;
}

/** Subscribes the store to the API's events and loads what a new window needs. */
export function startSync(ctx: AppContext, hooks: SyncHooks = {}): () => void {
  const unsubscribe = ctx.api.onEvent((event) => handleEvent(ctx, event, hooks));
  void ctx.api.settings().then((result) => {
    if (result.ok) ctx.store.getState().setSettings(result.value);
  });
  void ctx.api.session().then((result) => {
    if (result.ok) handleEvent(ctx, { type: 'session', session: result.value });
  });
  return unsubscribe;
}

/**
 * Messages that came before the app said who logged in: a new login's catch-up arrives
 * first. Held until then, so your own among them are not counted unread or notified.
 */
const beforeLogin = new WeakMap<AppStore, AppEvent[]>();

export function handleEvent(ctx: AppContext, event: AppEvent, hooks: SyncHooks = {}): void {
  const before = ctx.store.getState().session;
  if (before.me === null && (event.type === 'message' || event.type === 'outbox')) {
    beforeLogin.set(ctx.store, [...(beforeLogin.get(ctx.store) ?? []), event]);
    return;
  }
  const fresh = event.type === 'message' && !holdsMessage(ctx.store, event.message);
  applyEvent(ctx.store, event);
  if (fresh && !sameName(event.message.from, before.me)) hooks.onIncoming?.(event.message);
  if (event.type === 'session') {
    const held = beforeLogin.get(ctx.store) ?? [];
    if (event.session.me !== null || event.session.status === 'offline') beforeLogin.delete(ctx.store);
    if (event.session.me !== null) for (const message of held) handleEvent(ctx, message, hooks);
    afterSessionChange(ctx, before, event.session);
  }
  if (event.type === 'chatRequest' || event.type === 'chatAnswer' || event.type === 'chatLeft') void refreshContacts(ctx);
  // Read on another device, but not up to the newest: only the server can count what is left.
  if (event.type === 'event' && event.event.kind === 'read' && sameName(event.event.user, before.me)) {
    if ((ctx.store.getState().unread[event.event.conv] ?? 0) > 0) void loadReadState(ctx);
  }
  if (event.type === 'showConversation') void openConversation(ctx, event.conv);
}

function afterSessionChange(ctx: AppContext, before: SessionView, after: SessionView): void {
  const cameOnline = after.status === 'online' && (before.status !== 'online' || !sameIdentity(before, after));
  // A session the app restores at start shows what it saw last while it connects.
  const restoring = after.resumed === true && after.status !== 'online' && before.me === null && after.me !== null;
  if (cameOnline || restoring) void refreshAll(ctx);
  if (after.hosting && (!before.hosting || cameOnline)) void loadHostData(ctx);
}

/** Reloads everything a live event may have been missed for (after joining or reconnecting). */
async function refreshAll(ctx: AppContext): Promise<void> {
  const { api, store } = ctx;
  const [users, groups, invitations, unsent, calls] = await Promise.all([
    api.users(),
    api.groups(),
    api.groupInvitations(),
    api.unsent(),
    api.activeCalls(),
    refreshContacts(ctx),
  ]);
  const state = store.getState();
  if (users.ok) state.setUsers(users.value);
  // A host without calls refuses the call; there are then none to show.
  if (calls.ok) state.setCalls(calls.value);
  if (groups.ok) state.setGroups(groups.value);
  if (invitations.ok) state.setInvitations(invitations.value);
  if (unsent.ok) state.restoreUnsent(unsent.value, Date.now());
  await loadReadState(ctx);
  // Read again after the wait: the window shows the room until this, and the user may have opened another meanwhile.
  const now = store.getState();
  if (now.activeConv === null) now.setActiveConv(now.chatWindowConv ?? ROOM);
  const { activeConv, timelines, contacts, dmPeers } = store.getState();
  const toReload = new Set(Object.keys(timelines).filter((conv) => timelines[conv]?.loaded));
  if (activeConv !== null) toReload.add(activeConv);
  const listed = [
    ...(groups.ok ? groups.value.map((group) => group.conv) : []),
    ...Object.values(contacts).flatMap((contact) => (contact.conv === null ? [] : [contact.conv])),
    ...Object.keys(dmPeers),
  ];
  const toPreview = [...new Set(listed)].filter((conv) => !toReload.has(conv));
  await Promise.all([...[...toReload].map((conv) => loadLatest(ctx, conv)), loadPreviews(ctx, toPreview)]);
}

async function refreshContacts(ctx: AppContext): Promise<void> {
  const result = await ctx.api.contacts();
  if (result.ok) ctx.store.getState().setContacts(result.value);
}

async function loadHostData(ctx: AppContext): Promise<void> {
  const [users, pending, bans, log] = await Promise.all([
    ctx.api.hostUsers(),
    ctx.api.hostPending(),
    ctx.api.hostBans(),
    ctx.api.hostLog(),
  ]);
  const state = ctx.store.getState();
  if (users.ok) state.setHostUsers(users.value);
  if (pending.ok) state.setHostPending(pending.value);
  if (bans.ok) state.setHostBans(bans.value);
  if (log.ok) state.setHostLog(log.value);
}

async function loadLatest(ctx: AppContext, conv: ConversationKey): Promise<void> {
  const result = await ctx.api.history(conv);
  if (!result.ok) return;
  const state = ctx.store.getState();
  state.mergeLatestPage(conv, result.value);
  // Delivery reported before this window opened or this login began is known only from here.
  state.markDelivered(conv, result.value.deliveredUpTo);
  const newest = result.value.messages.at(-1);
  if (newest) state.noteLatest(newest);
}

/** The newest message of each listed conversation not loaded yet, for the sidebar's previews. */
async function loadPreviews(ctx: AppContext, convs: ConversationKey[]): Promise<void> {
  await Promise.all(
    convs.map(async (conv) => {
      const result = await ctx.api.history(conv, undefined, 1);
      const newest = result.ok ? result.value.messages.at(-1) : undefined;
      if (newest) ctx.store.getState().noteLatest(newest);
    }),
  );
}

export async function openConversation(ctx: AppContext, conv: ConversationKey): Promise<void> {
  const state = ctx.store.getState();
  // The details drawer belongs to the conversation it was opened on.
  if (state.drawer === 'details' && state.activeConv !== conv) state.setDrawer(null);
  if (state.activeConv !== conv) state.setDivider(unreadDivider(state, conv));
  state.setActiveConv(conv);
  state.setHighlight(null);
  void loadReceipts(ctx, conv);
  if (!(state.timelines[conv]?.loaded ?? false)) await loadLatest(ctx, conv);
}

/**
 * Where "New messages" goes in a conversation about to open: after your read position, or
 * without one from the server, before the last messages from others that were counted unread.
 * Decided before the view opens, which then opens there (and reads on from it).
 */
function unreadDivider(state: AppState, conv: ConversationKey): AppState['divider'] {
  const unread = state.unread[conv] ?? 0;
  if (unread === 0) return null;
  const known = state.readUpTo[conv];
  if (known !== undefined) return { conv, after: known };
  const fromOthers = (state.timelines[conv]?.messages ?? []).filter((message) => !sameName(message.from, state.session.me));
  const firstUnread = fromOthers.at(-unread) ?? fromOthers[0];
  return firstUnread === undefined ? null : { conv, after: firstUnread.id - 1 };
}

/** Whether the room's server offers an optional feature (protocol 1.1 hello.features). */
export function offers(ctx: AppContext, feature: string): boolean {
  return ctx.store.getState().session.features?.includes(feature) ?? false;
}

/** The server's read positions and unread counts; a 1.0 server has none and the counts stay this window's. */
async function loadReadState(ctx: AppContext): Promise<void> {
  if (!offers(ctx, 'read')) return;
  const result = await ctx.api.readState();
  if (result.ok) ctx.store.getState().setReadState(result.value);
}

async function loadReceipts(ctx: AppContext, conv: ConversationKey): Promise<void> {
  if (conversationKind(conv) === 'room' || !offers(ctx, 'read')) return;
  const result = await ctx.api.receipts(conv);
  if (result.ok) ctx.store.getState().setReceipts(conv, result.value);
}

/** Whether your account sends read receipts, as the room's server keeps it. */
export async function loadReadReceiptsSetting(ctx: AppContext): Promise<Result<boolean>> {
  const result = await ctx.api.privacy();
  if (!result.ok) return result;
  ctx.store.getState().setSendReadReceipts(result.value.sendReadReceipts);
  return { ok: true, value: result.value.sendReadReceipts };
}

/**
 * Turns sending read receipts on or off, shown at once (and put back if the server refuses): off,
 * the receipts shown go; on, the open conversation's come back.
 */
export async function changeReadReceipts(ctx: AppContext, on: boolean): Promise<Result<boolean>> {
  const before = ctx.store.getState().sendReadReceipts;
  ctx.store.getState().setSendReadReceipts(on);
  const result = await ctx.api.privacy({ sendReadReceipts: on });
  const state = ctx.store.getState();
  if (!result.ok) {
    if (before !== null) state.setSendReadReceipts(before);
    if (before === true && state.activeConv !== null) await loadReceipts(ctx, state.activeConv);
    return result;
  }
  state.setSendReadReceipts(result.value.sendReadReceipts);
  if (result.value.sendReadReceipts && state.activeConv !== null) await loadReceipts(ctx, state.activeConv);
  return { ok: true, value: result.value.sendReadReceipts };
}

/** Read positions waiting to be sent, by conversation: a burst of messages read sends one. */
const readToSend = new WeakMap<AppStore, Map<ConversationKey, number>>();
const READ_SEND_DELAY_MS = 300;

/** You have seen the conversation up to this message (shared with your other sessions through the server). */
export function markRead(ctx: AppContext, conv: ConversationKey, upTo: number): void {
  const state = ctx.store.getState();
  if ((state.readUpTo[conv] ?? 0) >= upTo) return;
  state.noteRead(conv, upTo);
  if (!offers(ctx, 'read')) return;
  const waiting = readToSend.get(ctx.store) ?? new Map<ConversationKey, number>();
  readToSend.set(ctx.store, waiting);
  const scheduled = waiting.has(conv);
  waiting.set(conv, upTo);
  if (scheduled) return;
  setTimeout(() => {
    const position = waiting.get(conv)!;
    waiting.delete(conv);
    void ctx.api.markRead(conv, position);
  }, READ_SEND_DELAY_MS);
}

/** Leaves an older stretch (from a search hit) for the newest messages. */
export function showLatest(ctx: AppContext, conv: ConversationKey): Promise<void> {
  ctx.store.getState().setHighlight(null);
  return loadLatest(ctx, conv);
}

/** Loads the page before the oldest loaded message. */
export async function loadOlder(ctx: AppContext, conv: ConversationKey): Promise<void> {
  const { store, api } = ctx;
  const timeline = store.getState().timelines[conv] ?? EMPTY_TIMELINE;
  const oldest = timeline.messages[0];
  if (!timeline.loaded || !timeline.hasMore || timeline.loadingOlder || oldest === undefined) return;
  store.getState().setLoadingOlder(conv, true);
  const result = await api.history(conv, oldest.id);
  const state = store.getState();
  // The run may have been replaced meanwhile (a search jump); this page would not join it.
  const stillOldest = state.timelines[conv]?.messages[0]?.id === oldest.id;
  if (result.ok && stillOldest) state.prependPage(conv, result.value);
  else state.setLoadingOlder(conv, false);
}

/** Opens a message's conversation with the message loaded and highlighted (a search hit, a reply's original). */
export async function openSearchHit(ctx: AppContext, message: Pick<ChatMessage, 'conv' | 'id'>): Promise<Result<void>> {
  const { store, api } = ctx;
  await openConversation(ctx, message.conv);
  const timeline = store.getState().timelines[message.conv];
  if (!timeline || !findMessage(timeline.messages, message.id)) {
    const page = await api.history(message.conv, message.id + 1);
    if (!page.ok) return page;
    store.getState().showOlderStretch(message.conv, page.value);
  }
  store.getState().setHighlight({ conv: message.conv, id: message.id });
  return { ok: true, value: undefined };
}

export async function runSearch(ctx: AppContext, append = false): Promise<void> {
  const { store, api } = ctx;
  const state = store.getState();
  const query = state.searchQuery.trim();
  const person = state.searchPerson.trim();
  if (query === '' && person === '') {
    state.clearSearch();
    return;
  }
  let name: string | undefined;
  if (person !== '') {
    const names = [...Object.values(state.users).map((user) => user.name), ...(state.session.me !== null ? [state.session.me] : [])];
    const match = matchPerson([...new Set(names)], person);
    if ('several' in match) {
      state.askWhichPerson(match.several);
      return;
    }
    // Nobody by that part of a name: the host is asked for the name as typed and says there is no such user.
    name = 'name' in match ? match.name : person;
  }
  const before = append ? state.searchHits.at(-1)?.message.id : undefined;
  const seq = state.startSearch(name);
  const result = await api.search(query, name, before);
  if (result.ok) store.getState().finishSearch(seq, result.value.hits, result.value.hasMore, append);
  else store.getState().failSearch(seq, result.error);
}

// ------------------------------------------------------------ session

async function enterRoom(ctx: AppContext, result: Result<SessionView>): Promise<Result<SessionView>> {
  if (result.ok) {
    ctx.store.getState().clearLastError();
    handleEvent(ctx, { type: 'session', session: result.value });
  }
  return result;
}

export async function hostRoom(ctx: AppContext, request: HostRequest): Promise<Result<SessionView>> {
  return enterRoom(ctx, await ctx.api.host(request));
}

export async function joinRoom(ctx: AppContext, request: JoinRequest): Promise<Result<SessionView>> {
  return enterRoom(ctx, await ctx.api.join(request));
}

async function thenResyncSession(ctx: AppContext, result: Result<void>): Promise<Result<void>> {
  if (result.ok) {
    const session = await ctx.api.session();
    if (session.ok) handleEvent(ctx, { type: 'session', session: session.value });
  }
  return result;
}

/** Leaves the room; a joined one is remembered, and the start screen says so and offers to sign out. */
export async function leaveRoom(ctx: AppContext): Promise<Result<void>> {
  const { roomName, hosting } = ctx.store.getState().session;
  const result = await thenResyncSession(ctx, await ctx.api.leave());
  // A host's room stopped with her: nothing is left to come back to.
  if (result.ok && hosting === null) ctx.store.getState().setExit({ kind: 'left', room: roomName ?? '' });
  return result;
}

/** Logs out and forgets the room and its session; the start screen says so. */
export async function signOut(ctx: AppContext): Promise<Result<void>> {
  const room = ctx.store.getState().session.roomName ?? ctx.store.getState().exit?.room ?? '';
  const result = await thenResyncSession(ctx, await ctx.api.signOut());
  if (result.ok) ctx.store.getState().setExit({ kind: 'signedOut', room });
  return result;
}

export async function stopHosting(ctx: AppContext): Promise<Result<void>> {
  return thenResyncSession(ctx, await ctx.api.stopHosting());
}

export async function updateSettings(ctx: AppContext, changes: Partial<Settings>): Promise<Result<Settings>> {
  const result = await ctx.api.updateSettings(changes);
  if (result.ok) ctx.store.getState().setSettings(result.value);
  return result;
}

// ------------------------------------------------------------ direct chats

/** Asks `user` for a direct chat (or reopens the existing one) and opens it. */
export async function startDirectChat(ctx: AppContext, user: string): Promise<Result<Contact>> {
  const result = await ctx.api.chatRequest(user);
  if (result.ok) {
    ctx.store.getState().upsertContact(result.value);
    ctx.store.getState().focusComposer(result.value.conv);
    await openConversation(ctx, result.value.conv);
  }
  return result;
}

/** Ends an accepted chat or withdraws your own request; the messages stay readable. */
export async function endDirectChat(ctx: AppContext, user: string): Promise<Result<void>> {
  const result = await ctx.api.chatLeave(user);
  if (result.ok) ctx.store.getState().removeContact(user);
  return result;
}

export async function answerChatRequest(ctx: AppContext, user: string, accept: boolean): Promise<Result<Contact>> {
  const result = await ctx.api.chatAnswer(user, accept);
  if (result.ok) ctx.store.getState().upsertContact(result.value);
  return result;
}

// ------------------------------------------------------------ changes to messages (protocol 1.1)

/** Keeps the message as the server answered it; the same change also arrives as an event. */
function keepMessage(ctx: AppContext, result: Result<ChatMessage>): Result<ChatMessage> {
  if (result.ok) ctx.store.getState().replaceMessage(result.value);
  return result;
}

export async function editMessage(ctx: AppContext, message: ChatMessage, text: string): Promise<Result<ChatMessage>> {
  return keepMessage(ctx, await ctx.api.editMessage(message.id, text));
}

export async function deleteMessage(ctx: AppContext, message: ChatMessage): Promise<Result<ChatMessage>> {
  return keepMessage(ctx, await ctx.api.deleteMessage(message.id));
}

/** Adds your reaction with this emoji, or takes it back when you had reacted with it. */
export async function toggleReaction(ctx: AppContext, message: ChatMessage, emoji: string): Promise<Result<ChatMessage>> {
  const me = ctx.store.getState().session.me;
  const reacted = message.reactions?.some((reaction) => reaction.emoji === emoji && reaction.users.some((user) => sameName(user, me))) ?? false;
  return keepMessage(ctx, await ctx.api.react(message.id, emoji, !reacted));
}
