/** Builders shared by the store tests. */
import type { AppApi, AppEvent, SessionView } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { applyEvent } from './events.js';
import { createAppStore, type AppStore } from './index.js';

export function onlineSession(me: string): SessionView {
  return {
    status: 'online',
    me,
    roomName: 'Office',
    server: { host: '192.168.1.10', port: 7171 },
    hosting: null,
    security: { encrypted: true, fingerprint: `${'AB:'.repeat(31)}CD`, firstUse: false },
    error: null,
  };
}

/** A fresh store with `me` logged in. */
export function storeAs(me: string): AppStore {
  const store = createAppStore();
  applyEvent(store, { type: 'session', session: onlineSession(me) });
  return store;
}

export function roomMessage(id: number, from: string, text = `message ${id}`): ChatMessage {
  return { id, conv: 'room', from, text, ts: 1_700_000_000_000 + id * 1000, clientMsgId: `c${id}` };
}

export function directMessage(id: number, from: string, to: string, conv = 'dm:1:2'): ChatMessage {
  return { ...roomMessage(id, from), conv, to };
}

/** An App API whose every call succeeds with an empty answer unless overridden. */
export function fakeApi(overrides: Partial<AppApi> = {}): AppApi & { emit(event: AppEvent): void } {
  const listeners = new Set<(event: AppEvent) => void>();
  const ok = <T>(value: T) => Promise.resolve({ ok: true as const, value });
  const base: AppApi = {
    host: () => ok(onlineSession('alice')),
    stopHosting: () => ok(undefined),
    join: () => ok(onlineSession('alice')),
    nearbyRooms: () => ok([]),
    leave: () => ok(undefined),
    session: () => ok(onlineSession('alice')),
    send: () => ok({ clientMsgId: 'c1' }),
    unsent: () => ok([]),
    cancelUnsent: () => ok(undefined),
    history: () => ok({ messages: [], hasMore: false, deliveredUpTo: 0 }),
    search: () => ok({ hits: [], hasMore: false }),
    users: () => ok([]),
    contacts: () => ok([]),
    chatRequest: (user) => ok({ name: user, state: 'outgoing', conv: 'dm:1:2', since: 1 }),
    chatAnswer: (user, accept) => ok({ name: user, state: accept ? 'accepted' : 'declined-by-me', conv: 'dm:1:2', since: 1 }),
    chatLeave: () => ok(undefined),
    groups: () => ok([]),
    groupCreate: (name) => ok({ id: 1, name, owner: 'alice', members: ['alice'], conv: 'group:1', invited: [] }),
    groupRename: (groupId, name) => ok({ id: groupId, name, owner: 'alice', members: ['alice'], conv: `group:${groupId}`, invited: [] }),
    groupDelete: () => ok(undefined),
    groupAddMember: (groupId, user) =>
      ok({ id: groupId, name: 'g', owner: 'alice', members: ['alice', user], conv: `group:${groupId}`, invited: [] }),
    groupInvitations: () => ok([]),
    groupAnswer: () => ok(null),
    groupRemoveMember: (groupId) => ok({ id: groupId, name: 'g', owner: 'alice', members: ['alice'], conv: `group:${groupId}`, invited: [] }),
    hostUsers: () => ok([]),
    hostLog: () => ok([]),
    hostPending: () => ok([]),
    hostBans: () => ok([]),
    hostAdmin: () => ok({}),
    changePassword: () => ok(undefined),
    acknowledgeFingerprint: () => ok(undefined),
    trustedHosts: () => ok([]),
    forgetHost: () => ok(undefined),
    settings: () =>
      ok({ lastHost: '', lastPort: 7171, lastName: '', lastRoomName: '', lastMode: 'join', language: 'system', theme: 'system', notifications: true, sendTyping: true, mutes: {}, doNotDisturb: false }),
    updateSettings: () =>
      ok({ lastHost: '', lastPort: 7171, lastName: '', lastRoomName: '', lastMode: 'join', language: 'system', theme: 'system', notifications: true, sendTyping: true, mutes: {}, doNotDisturb: false }),
    openChatWindow: () => ok(undefined),
    signOut: () => ok(undefined),
    editMessage: (id, text) => ok({ id, conv: 'room', from: 'alice', text, ts: 0, clientMsgId: 'c', editedAt: 1 }),
    deleteMessage: (id) => ok({ id, conv: 'room', from: 'alice', text: '', ts: 0, clientMsgId: 'c', deleted: true }),
    react: (id) => ok({ id, conv: 'room', from: 'alice', text: '', ts: 0, clientMsgId: 'c' }),
    markRead: (_conv, upTo) => ok(upTo),
    readState: () => ok([]),
    receipts: () => ok([]),
    typing: () => ok(undefined),
    privacy: () => ok({ sendReadReceipts: true }),
    hostSilentAccounts: () => ok({ count: 0, accounts: [] }),
    sendFiles: () => ok({ transfers: [] }),
    downloadFile: () => ok({ transfer: 't1', path: '' }),
    cancelTransfer: () => ok(undefined),
    retryTransfer: () => ok(undefined),
    openFile: () => ok(undefined),
    showFileInFolder: () => ok(undefined),
    saveFileAs: () => ok(null),
    callStart: () => Promise.resolve({ ok: false as const, error: { code: 'UNSUPPORTED' as const, message: 'no calls in this fake' } }),
    callJoin: () => Promise.resolve({ ok: false as const, error: { code: 'UNSUPPORTED' as const, message: 'no calls in this fake' } }),
    callDecline: () => ok(undefined),
    callLeave: () => ok(undefined),
    callSignal: () => ok(undefined),
    activeCalls: () => ok([]),
    safetyNumber: () => ok({ safetyNumber: '12345 67890', verified: false }),
    markVerified: () => ok(undefined),
    exportConversation: () => ok({ fileName: 'conversation.json', mimeType: 'application/json', content: '{}' }),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { ...base, ...overrides, emit: (event) => listeners.forEach((listener) => listener(event)) };
}
