import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { ChatMessage, ConversationEvent } from '../../../src-shared/protocol/objects.js';
import { ChatClient } from '../../client/client.js';
import { folderHolds, nextEvent, waitFor } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

/** Every conversation event a client emits, in order. */
function collectEvents(client: ChatClient): ConversationEvent[] {
  const seen: ConversationEvent[] = [];
  client.on('event', (event) => seen.push(event));
  return seen;
}

/** A DM conversation both have accepted. */
async function directChat(from: ChatClient, to: ChatClient, toName: string): Promise<string> {
  const asked = nextEvent(to, 'chatRequest');
  await from.request('chatRequest', { user: toName });
  const [request] = await asked;
  const { contact } = await to.request('chatAnswer', { user: request.from, accept: true });
  return contact.conv;
}

describe('hello and login announce protocol 1.1 (and later)', () => {
  it('lists the features and limits, and the newest event id', async () => {
    const alice = await room.user('alice');
    expect(alice.session!.hello).toMatchObject({
      protocol: '1.2',
      features: expect.arrayContaining(['edit', 'delete', 'reply', 'reactions', 'read', 'typing']),
      limits: { editWindowMs: null, typingIntervalMs: 3000, maxReactionsPerUser: 20 },
    });
    expect(alice.session!.login.lastEventId).toBeTypeOf('number');
  });
});

describe('edit', () => {
  it('changes your own message for every reader, your other sessions included, and for search', async () => {
    const [alice, aliceToo, bob] = [await room.user('alice'), await room.user('alice'), await room.user('bob')];
    const sent = await alice.send({ kind: 'room' }, 'meet at nine');
    const atBob = nextEvent(bob, 'event');
    const atAliceToo = nextEvent(aliceToo, 'event');
    const { message } = await alice.request('edit', { messageId: sent.id, text: 'meet at ten' });
    expect(message).toMatchObject({ id: sent.id, text: 'meet at ten', editedAt: expect.any(Number) });
    for (const [event] of [await atBob, await atAliceToo]) expect(event).toMatchObject({ kind: 'edit', message });
    expect((await bob.request('search', { query: 'nine' })).hits).toEqual([]);
    expect((await bob.request('search', { query: 'ten' })).hits.map((hit) => hit.message.text)).toEqual(['meet at ten']);
  });

  it('is refused for others’ messages, messages you cannot read, and deleted ones; nothing changes', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const conv = await directChat(alice, bob, 'bob');
    const inRoom = await alice.send({ kind: 'room' }, 'mine');
    const direct = await alice.send({ kind: 'dm', user: 'bob' }, 'between us');
    await expect(bob.request('edit', { messageId: inRoom.id, text: 'hijacked' })).rejects.toMatchObject({ code: ErrorCode.NOT_YOUR_MESSAGE });
    await expect(carol.request('edit', { messageId: direct.id, text: 'x' })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_MESSAGE });
    await expect(carol.request('react', { messageId: direct.id, emoji: '👍', on: true })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_MESSAGE });
    await expect(carol.request('read', { conv, upTo: direct.id })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    await alice.request('delete', { messageId: inRoom.id });
    await expect(alice.request('edit', { messageId: inRoom.id, text: 'back' })).rejects.toMatchObject({ code: ErrorCode.MESSAGE_DELETED });
    const page = await bob.request('history', { conv: 'room' });
    expect(page.messages.find((m) => m.id === inRoom.id)).toMatchObject({ text: '', deleted: true });
  });

  it('is refused after the host’s edit window', async () => {
    await room.restart({ editWindowMs: 1 });
    const alice = await room.user('alice');
    expect(alice.session!.hello.limits?.editWindowMs).toBe(1);
    const sent = await alice.send({ kind: 'room' }, 'quick');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(alice.request('edit', { messageId: sent.id, text: 'slow' })).rejects.toMatchObject({ code: ErrorCode.EDIT_WINDOW_CLOSED });
  });
});

describe('delete', () => {
  it('blanks the message everywhere and turns reply quotes of it into "deleted"', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const original = await alice.send({ kind: 'room' }, 'first line\nsecond');
    const reply = (await bob.request('send', { clientMsgId: 'r1', to: { kind: 'room' }, text: 'answer', replyTo: original.id })).message;
    expect(reply.replyTo).toEqual({ id: original.id, from: 'alice', snippet: 'first line' });
    const atBob = nextEvent(bob, 'event');
    await alice.request('delete', { messageId: original.id });
    expect((await atBob)[0]).toMatchObject({ kind: 'delete', message: { id: original.id, text: '', deleted: true } });
    const page = await bob.request('history', { conv: 'room' });
    expect(page.messages.find((m) => m.id === reply.id)!.replyTo).toEqual({ id: original.id, from: 'alice', snippet: '', deleted: true });
    await expect(bob.request('send', { clientMsgId: 'r2', to: { kind: 'room' }, text: 'again', replyTo: original.id })).rejects.toMatchObject({
      code: ErrorCode.MESSAGE_DELETED,
    });
  });

  it('takes the text out of every file of the host’s folder, its write-ahead log included, soon after', async () => {
    const alice = await room.user('alice');
    const secret = 'okapi-5512 the safe code';
    const sent = await alice.send({ kind: 'room' }, secret);
    expect(folderHolds(room.dir, 'okapi-5512')).toBe(true);
    await alice.request('delete', { messageId: sent.id });
    await waitFor(() => !folderHolds(room.dir, 'okapi-5512'), 'the deleted text to leave the files');
    // The server kept working through it.
    expect((await alice.send({ kind: 'room' }, 'still here')).text).toBe('still here');
  });

  it('refuses a reply to a message of another conversation', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await directChat(alice, bob, 'bob');
    const direct = await alice.send({ kind: 'dm', user: 'bob' }, 'private');
    await expect(bob.request('send', { clientMsgId: 'x', to: { kind: 'room' }, text: 'leak', replyTo: direct.id })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_MESSAGE,
    });
  });

  it('lets the host delete anyone’s message it can read, and logs it; nobody else', async () => {
    room.host.server.admin.protect('host');
    const [host, alice, bob] = [await room.user('host'), await room.user('alice'), await room.user('bob')];
    const sent = await alice.send({ kind: 'room' }, 'spam spam');
    await expect(bob.request('delete', { messageId: sent.id })).rejects.toMatchObject({ code: ErrorCode.NOT_YOUR_MESSAGE });
    const atAlice = nextEvent(alice, 'event');
    await host.request('delete', { messageId: sent.id });
    expect((await atAlice)[0]).toMatchObject({ kind: 'delete', message: { id: sent.id, deleted: true } });
    await waitFor(() => room.logEvents().some((entry) => entry.event === 'message deleted by the host' && entry.id === sent.id));
  });
});

describe('reactions', () => {
  it('toggle per user and reach every reader; a removed group member cannot react', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const { group } = await alice.request('groupCreate', { name: 'Team', members: ['bob'] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const sent = await alice.send({ kind: 'group', groupId: group.id }, 'ship it?');
    const atAlice = nextEvent(alice, 'event');
    await bob.request('react', { messageId: sent.id, emoji: '🚀', on: true });
    expect((await atAlice)[0]).toMatchObject({ kind: 'reaction', message: { reactions: [{ emoji: '🚀', users: ['bob'] }] } });
    await expect(bob.request('react', { messageId: sent.id, emoji: 'no', on: true })).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await alice.request('groupRemoveMember', { groupId: group.id, user: 'bob' });
    await expect(bob.request('react', { messageId: sent.id, emoji: '👎', on: true })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_MESSAGE });
    const { message } = await alice.request('react', { messageId: sent.id, emoji: '🚀', on: false });
    expect(message.reactions).toEqual([{ emoji: '🚀', users: ['bob'] }]);
  });
});

describe('mentions', () => {
  it('name the people who can read the conversation', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await room.user('carol');
    await directChat(alice, bob, 'bob');
    expect((await alice.send({ kind: 'room' }, 'hi @Bob and @carol!')).mentions).toEqual(['bob', 'carol']);
    expect((await alice.send({ kind: 'dm', user: 'bob' }, '@carol @bob')).mentions).toEqual(['bob']);
  });
});

describe('read positions', () => {
  it('reach your other sessions and, in a DM, the other reader while both send receipts', async () => {
    const [alice, bob, bobToo] = [await room.user('alice'), await room.user('bob'), await room.user('bob')];
    const conv = await directChat(alice, bob, 'bob');
    const direct = await alice.send({ kind: 'dm', user: 'bob' }, 'did you read this?');
    const atAlice = nextEvent(alice, 'event');
    const atBobToo = nextEvent(bobToo, 'event');
    expect(await bob.request('read', { conv, upTo: direct.id })).toEqual({ upTo: direct.id });
    const expected = { kind: 'read', conv, user: 'bob', upTo: direct.id };
    expect((await atAlice)[0]).toMatchObject(expected);
    expect((await atBobToo)[0]).toMatchObject(expected);
    expect(await alice.request('receipts', { conv })).toEqual({ receipts: [{ user: 'bob', upTo: direct.id }] });
    expect((await bob.request('readState')).conversations.find((state) => state.conv === conv)).toEqual({
      conv,
      upTo: direct.id,
      unread: 0,
      mentions: 0,
    });

    expect(await bob.request('privacy', { sendReadReceipts: false })).toEqual({ sendReadReceipts: false });
    expect(await alice.request('receipts', { conv })).toEqual({ receipts: [] });
    const aliceEvents = collectEvents(alice);
    const next = await alice.send({ kind: 'dm', user: 'bob' }, 'and this?');
    const atBobAgain = nextEvent(bobToo, 'event');
    await bob.request('read', { conv, upTo: next.id });
    await atBobAgain;
    expect(aliceEvents).toEqual([]);
  });

  it('in the room reach only your own sessions', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const sent = await alice.send({ kind: 'room' }, 'hello room');
    const aliceEvents = collectEvents(alice);
    const bobToo = await room.user('bob');
    const atBobToo = nextEvent(bobToo, 'event');
    await bob.request('read', { conv: 'room', upTo: sent.id });
    expect((await atBobToo)[0]).toMatchObject({ kind: 'read', user: 'bob', upTo: sent.id });
    expect(await alice.request('receipts', { conv: 'room' })).toEqual({ receipts: [] });
    expect(aliceEvents).toEqual([]);
  });
});

describe('typing', () => {
  it('is forwarded to the other readers at most once per interval and never stored', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const typing: string[] = [];
    bob.on('typing', (push) => typing.push(`${push.user} ${push.conv}`));
    const first = nextEvent(bob, 'typing');
    for (let i = 0; i < 5; i++) await alice.request('typing', { conv: 'room' });
    await first;
    const marker = nextEvent(bob, 'message');
    await alice.send({ kind: 'room' }, 'done typing');
    await marker;
    expect(typing).toEqual(['alice room']);
    const before = alice.session!.login.lastEventId!;
    expect((await bob.request('events', { after: before })).events.map((event) => event.kind)).toEqual(['message']);
  });

  it('never reaches someone who declined the typist’s chat: the typist is told CHAT_DECLINED (issue 33, item 8)', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const typing: string[] = [];
    bob.on('typing', (push) => typing.push(`${push.user} ${push.conv}`));
    const asked = nextEvent(bob, 'chatRequest');
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await asked;
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    await expect(alice.request('typing', { conv: contact.conv })).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED });
    // Bob still hears her in the room, after what she typed in the chat would have come.
    const heard = nextEvent(bob, 'typing');
    await alice.request('typing', { conv: 'room' });
    await heard;
    expect(typing).toEqual(['alice room']);
  });
});

describe('the change rate', () => {
  it('refuses edits, deletes and reactions past it with RATE_LIMITED and the wait, and pushes nothing of them (issue 33, item 5)', async () => {
    await room.restart({ limits: { changesPerMinute: 3 } });
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.raw();
    await bob.login('bob');
    const sent = (await alice.request('send', { clientMsgId: 'c1', to: { kind: 'room' }, text: 'hi' })) as { result: { message: { id: number } } };
    const messageId = sent.result.message.id;
    const changes = [
      ['react', { messageId, emoji: '👍', on: true }],
      ['react', { messageId, emoji: '👍', on: false }],
      ['edit', { messageId, text: 'hi!' }],
    ] as const;
    for (const [type, body] of changes) expect(await alice.request(type, body)).toMatchObject({ ok: true });
    expect(await alice.request('react', { messageId, emoji: '🎉', on: true })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.RATE_LIMITED, retryAfterMs: expect.any(Number) },
    });
    expect(await alice.request('delete', { messageId })).toMatchObject({ ok: false, error: { code: ErrorCode.RATE_LIMITED } });
    // Bob got the three changes, then the next message: nothing of the refused ones.
    expect(await alice.request('send', { clientMsgId: 'c2', to: { kind: 'room' }, text: 'after' })).toMatchObject({ ok: true });
    await bob.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'after');
    expect(bob.frames.filter((frame) => frame.type === 'event')).toHaveLength(3);
    // Others' own changes are theirs to count.
    expect(await bob.request('react', { messageId, emoji: '👍', on: true })).toMatchObject({ ok: true });
  });
});

describe('catch-up through the event log', () => {
  it('gives a returning client every change once, in order, and its messages match a fresh login', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const kept = await alice.send({ kind: 'room' }, 'keep me');
    const gone = await alice.send({ kind: 'room' }, 'delete me');
    await waitFor(() => bob.lastMessageId === gone.id, 'bob has both');
    const cursors = { lastMessageId: bob.lastMessageId, lastEventId: bob.lastEventId };
    expect(cursors.lastEventId).toBeGreaterThan(0);
    bob.close();

    await alice.request('edit', { messageId: kept.id, text: 'kept, edited' });
    await alice.request('delete', { messageId: gone.id });
    const fresh = await alice.send({ kind: 'room' }, 'new while away');
    await alice.request('react', { messageId: fresh.id, emoji: '🎉', on: true });
    await alice.request('react', { messageId: kept.id, emoji: '👍', on: true });

    const back = room.track(new ChatClient({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', ...cursors }));
    const events = collectEvents(back);
    const messages: ChatMessage[] = [];
    back.on('message', (message) => messages.push(message));
    await back.connect();
    // The edit of kept was replaced in the log by its later reaction, which carries the edit too.
    expect(events.map((event) => [event.kind, 'message' in event ? event.message.id : 0])).toEqual([
      ['delete', gone.id],
      ['reaction', fresh.id],
      ['reaction', kept.id],
    ]);
    expect(messages.map((message) => message.id)).toEqual([fresh.id]);

    const state = new Map<number, ChatMessage>();
    for (const message of messages) state.set(message.id, message);
    for (const event of events) if ('message' in event) state.set(event.message.id, event.message);
    const { messages: seenFresh } = await (await room.user('bob')).request('history', { conv: 'room' });
    for (const message of seenFresh) if (state.has(message.id)) expect(state.get(message.id)).toEqual(message);
    expect(state.get(kept.id)).toMatchObject({ text: 'kept, edited', reactions: [{ emoji: '👍', users: ['alice'] }] });
  });
});
