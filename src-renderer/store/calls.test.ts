import { describe, expect, it } from 'vitest';
import type { CallInfo } from '../../src-shared/api.js';
import { i18n, initI18n } from '../i18n/index.js';
import { callEventText } from '../lib/call-events.js';
import { formatDuration } from '../calls/format.js';
import { callSound } from '../calls/ring-sound.js';
import { applyEvent } from './events.js';
import { callIn, ringingCall } from './calls.js';
import { directMessage, storeAs } from './test-data.js';

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';

function call(change: Partial<CallInfo> = {}): CallInfo {
  return {
    id: ID,
    conv: 'dm:1:2',
    startedBy: 'bob',
    startedAt: 1,
    video: false,
    state: 'ringing',
    participants: [{ user: 'bob', endpoint: 'BBBBBBBBBBBBBBBBBBBBBB', since: 1 }],
    declined: [],
    ...change,
  };
}

describe('calls in the store', () => {
  it('ring for a call someone else started, until answered here, joined elsewhere or ended', () => {
    const store = storeAs('alice');
    applyEvent(store, { type: 'call', call: call() });
    expect(ringingCall(store.getState(), 'alice')?.id).toBe(ID);
    // Not for its caller, in any case of the name.
    expect(ringingCall(store.getState(), 'Bob')).toBeUndefined();

    // A group call someone joined rings on for the others while it rings, and no longer.
    const joined = call({ state: 'active', startedAt: 1_000, participants: [...call().participants, { user: 'carol', endpoint: 'DDDDDDDDDDDDDDDDDDDDDD', since: 2 }] });
    expect(ringingCall({ calls: { [ID]: joined }, answered: [], inCall: null }, 'alice', 2_000, 45_000)?.id).toBe(ID);
    expect(ringingCall({ calls: { [ID]: joined }, answered: [], inCall: null }, 'alice', 46_000, 45_000)).toBeUndefined();

    store.getState().noteAnswered(ID);
    expect(ringingCall(store.getState(), 'alice')).toBeUndefined();

    const other = storeAs('alice');
    applyEvent(other, { type: 'call', call: call({ participants: [...call().participants, { user: 'Alice', endpoint: 'CCCCCCCCCCCCCCCCCCCCCC', since: 2 }] }) });
    expect(ringingCall(other.getState(), 'alice')).toBeUndefined();

    applyEvent(store, { type: 'call', call: call({ state: 'ended', participants: [] }) });
    expect(callIn(store.getState().calls, 'dm:1:2')).toBeUndefined();
    expect(store.getState().answered).toEqual([]);
  });

  it('ring for an incoming call unless do-not-disturb or its conversation is muted; ringback for the caller until someone joins', () => {
    const settings = { lastHost: '', lastPort: 7171, lastName: '', lastRoomName: '', lastMode: 'join', language: 'system', theme: 'system', notifications: true, sendTyping: true, mutes: {}, doNotDisturb: false } as const;
    const store = storeAs('alice');
    store.getState().setSettings(settings);
    expect(callSound(store.getState(), 2)).toBeNull();
    applyEvent(store, { type: 'call', call: call() });
    expect(callSound(store.getState(), 2)).toBe('ring');
    store.getState().setSettings({ ...settings, doNotDisturb: true });
    expect(callSound(store.getState(), 2)).toBeNull();
    store.getState().setSettings({ ...settings, mutes: { 'dm:1:2': 'always' } });
    expect(callSound(store.getState(), 2)).toBeNull();
    store.getState().setSettings({ ...settings, mutes: { room: 'always' } });
    expect(callSound(store.getState(), 2)).toBe('ring');
    store.getState().noteAnswered(ID);
    expect(callSound(store.getState(), 2)).toBeNull();

    // The caller's side: ringback while it rings, even with do-not-disturb; silence once bob joined.
    const caller = storeAs('bob');
    caller.getState().setSettings({ ...settings, doNotDisturb: true });
    applyEvent(caller, { type: 'call', call: call() });
    caller.getState().setInCall({ id: ID, conv: 'dm:1:2', endpoint: 'BBBBBBBBBBBBBBBBBBBBBB', joinedAt: 1, muted: false, camera: false, sharing: false, speaking: false, preview: null, peers: [], devices: { audioinput: '', videoinput: '', audiooutput: '' }, mediaError: null, unverified: [] });
    expect(callSound(caller.getState(), 2)).toBe('ringback');
    applyEvent(caller, { type: 'call', call: call({ state: 'active', participants: [...call().participants, { user: 'alice', endpoint: 'CCCCCCCCCCCCCCCCCCCCCC', since: 2 }] }) });
    expect(callSound(caller.getState(), 2)).toBeNull();
  });

  it('count a missed call as unread, and no other call line', () => {
    const store = storeAs('alice');
    store.getState().setActiveConv('room');
    const line = (id: number, kind: string) => ({ ...directMessage(id, 'bob', 'alice'), text: kind, callEvent: { kind, callId: ID, video: false } });
    applyEvent(store, { type: 'message', message: line(1, 'ended') });
    applyEvent(store, { type: 'message', message: line(2, 'declined') });
    expect(store.getState().unread['dm:1:2']).toBeUndefined();
    applyEvent(store, { type: 'message', message: line(3, 'missed') });
    expect(store.getState().unread['dm:1:2']).toBe(1);
  });
});

describe('call lines', () => {
  initI18n('en');
  const line = (from: string, kind: string, extra: { video?: boolean; durationMs?: number } = {}) => ({
    ...directMessage(1, from, 'x'),
    text: 'the host’s words',
    callEvent: { kind, callId: ID, video: extra.video ?? false, durationMs: extra.durationMs },
  });

  it('say a missed call to its callee and "no answer" to its caller', () => {
    expect(callEventText(i18n.t, line('bob', 'missed'), 'alice')).toBe('Missed call from bob');
    expect(callEventText(i18n.t, line('bob', 'missed', { video: true }), 'Bob')).toBe('Video call, no answer');
  });

  it('say who declined, how long a call lasted, and the host’s text for a kind this version does not know', () => {
    expect(callEventText(i18n.t, line('bob', 'declined'), 'alice')).toBe('bob declined the call');
    expect(callEventText(i18n.t, line('alice', 'declined'), 'alice')).toBe('You declined the call');
    expect(callEventText(i18n.t, line('bob', 'ended', { durationMs: 3_725_000 }), 'alice')).toBe('Call ended · 1:02:05');
    expect(callEventText(i18n.t, line('bob', 'transferred'), 'alice')).toBe('the host’s words');
  });

  it('count minutes and seconds under an hour', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(42_999)).toBe('0:42');
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12:05');
  });
});
