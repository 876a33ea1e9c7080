import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { nextEvent } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

describe('direct messages and chat requests', () => {
  it('turns a first message into a chat request the recipient accepts', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const request = nextEvent(bob, 'chatRequest');
    const message = nextEvent(bob, 'message');
    await alice.send({ kind: 'dm', user: 'bob' }, 'can we talk?');
    expect((await request)[0].from).toBe('alice');
    expect((await message)[0]).toMatchObject({ from: 'alice', to: 'bob', text: 'can we talk?' });
    expect((await bob.request('contacts')).contacts).toEqual([expect.objectContaining({ name: 'alice', state: 'incoming' })]);

    const answer = nextEvent(alice, 'chatAnswer');
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    expect((await answer)[0]).toMatchObject({ from: 'bob', accepted: true });
    const reply = nextEvent(alice, 'message');
    await bob.send({ kind: 'dm', user: 'alice' }, 'sure');
    expect((await reply)[0]).toMatchObject({ from: 'bob', to: 'alice' });
    expect((await alice.request('contacts')).contacts[0]).toMatchObject({ name: 'bob', state: 'accepted' });
  });

  it('tells a declined sender and refuses further messages to that person', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.request('chatRequest', { user: 'bob' });
    const answer = nextEvent(alice, 'chatAnswer');
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    expect((await answer)[0]).toMatchObject({ from: 'bob', accepted: false });
    await expect(alice.send({ kind: 'dm', user: 'bob' }, 'please?')).rejects.toMatchObject({
      code: ErrorCode.CHAT_DECLINED,
    });
    await expect(alice.request('chatRequest', { user: 'bob' })).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED });
    // Only bob can reopen it.
    const reopened = await bob.request('chatRequest', { user: 'alice' });
    expect(reopened.contact.state).toBe('outgoing');
  });

  it('lets the declined person ask again by a chat request once the cool-down has passed, never by a message (issue 38)', async () => {
    {
      const [alice, bob] = [await room.user('alice'), await room.user('bob')];
      await alice.request('chatRequest', { user: 'bob' });
      await bob.request('chatAnswer', { user: 'alice', accept: false });
      // Within the day after the decline: refused, saying from when.
      await expect(alice.request('chatRequest', { user: 'bob' })).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED, message: /ask again from \d{4}-/ });
    }
    // A host whose cool-down (a millisecond) has passed by the time it is back.
    await room.restart({ limits: { chatRequestCooldownMs: 1 } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await expect(alice.send({ kind: 'dm', user: 'bob' }, 'please?')).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED });
    const asked = nextEvent(bob, 'chatRequest');
    expect((await alice.request('chatRequest', { user: 'bob' })).contact.state).toBe('outgoing');
    expect((await asked)[0]).toMatchObject({ from: 'alice', to: 'bob' });
    expect((await bob.request('contacts')).contacts).toEqual([expect.objectContaining({ name: 'alice', state: 'incoming' })]);
    // Asking again is a request like the first: its messages are delivered while bob decides, and bob may decline again.
    const message = nextEvent(bob, 'message');
    await alice.send({ kind: 'dm', user: 'bob' }, 'sorry to ask again');
    expect((await message)[0]).toMatchObject({ text: 'sorry to ask again' });
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    expect((await alice.request('contacts')).contacts[0]).toMatchObject({ name: 'bob', state: 'declined-by-them' });
  });

  it('lets either side leave a private chat and tells the partner', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    const left = nextEvent(bob, 'chatLeft');
    await alice.request('chatLeave', { user: 'bob' });
    expect((await left)[0].user).toBe('alice');
    expect((await bob.request('contacts')).contacts).toEqual([]);
  });

  it('refuses unknown users and messages to yourself', async () => {
    const alice = await room.user('alice');
    await expect(alice.send({ kind: 'dm', user: 'ghost' }, 'hi')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
    await expect(alice.send({ kind: 'dm', user: 'ALICE' }, 'hi')).rejects.toMatchObject({
      code: ErrorCode.INVALID_TARGET,
    });
  });

  it('never shows a direct conversation to a third user', async () => {
    const [alice, bob, eve] = [await room.user('alice'), await room.user('bob'), await room.user('eve')];
    const sent = await alice.send({ kind: 'dm', user: 'bob' }, 'secret plan');
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    await expect(eve.request('history', { conv: sent.conv })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    expect((await eve.request('search', { query: 'secret' })).hits).toEqual([]);
    const sync = await eve.request('sync', { after: 0 });
    expect(sync.messages.map((m) => m.text)).not.toContain('secret plan');
  });
});

