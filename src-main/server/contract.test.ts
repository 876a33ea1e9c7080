/** Issue 10 items 16 and 18–22: what docs/PROTOCOL.md says is what the server does, over real sockets (more in docs/vectors/). */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { protocolJsonSchema } from '../../src-shared/protocol/json-schema.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { presenceBefore12 } from '../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../net/frame.js';
import { type RawPeer, announces, nextEvent, presenceIn } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

const room = useRoom({ start: { rateLimits: { framesPerSecond: Infinity, bytesPerSecond: Infinity } } });

type Message = { id: number; text: string };
/** The fields these tests read from a raw response. */
type Frame = {
  ok: boolean;
  error: { code: string };
  result: { message: Message; messages: Message[]; hits: { message: Message }[]; hasMore: boolean; duplicate: boolean };
};

describe('lone surrogates (§7)', () => {
  it('in a message text become one U+FFFD each, the same in the response, the push, history, sync, search and a resend', async () => {
    const bob = await room.user('bob');
    const pushed = nextEvent(bob, 'message');
    const alice = await room.raw();
    await alice.login('alice');
    const send = { clientMsgId: 'c1', to: { kind: 'room' }, text: 'lone\ud800mid\udc00end' };
    const expected = 'lone\ufffdmid\ufffdend';
    const sent = (await alice.request('send', send)) as unknown as Frame;
    expect(sent.result.message.text).toBe(expected);
    expect((await pushed)[0].text).toBe(expected);
    const history = (await alice.request('history', { conv: 'room' })) as unknown as Frame;
    const sync = (await alice.request('sync', { after: 0 })) as unknown as Frame;
    const search = (await alice.request('search', { query: 'lone' })) as unknown as Frame;
    const resend = (await alice.request('send', send)) as unknown as Frame;
    expect(history.result.messages.map((m) => m.text)).toEqual([expected]);
    expect(sync.result.messages.map((m) => m.text)).toEqual([expected]);
    expect(search.result.hits.map((h) => h.message.text)).toEqual([expected]);
    expect(resend.result).toMatchObject({ duplicate: true, message: { id: sent.result.message.id, text: expected } });
  });

  it('keeps a text of maxTextLength lone surrogates at maxTextLength characters', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    const sent = (await alice.request('send', { clientMsgId: 'c', to: { kind: 'room' }, text: '\udc00'.repeat(LIMITS.maxTextLength) })) as unknown as Frame;
    expect(sent.result.message.text === '\ufffd'.repeat(LIMITS.maxTextLength)).toBe(true);
    const history = (await alice.request('history', { conv: 'room' })) as unknown as Frame;
    expect(history.result.messages[0]?.text === '\ufffd'.repeat(LIMITS.maxTextLength)).toBe(true);
  });

  it('anywhere else are refused with BAD_REQUEST: two client ids, passwords or names never become one', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    const send = (clientMsgId: string) => alice.request('send', { clientMsgId, to: { kind: 'room' }, text: 'x' }) as unknown as Promise<Frame>;
    for (const clientMsgId of ['id\ud800', 'id\udc00']) expect((await send(clientMsgId)).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await send('id\ufffd')).ok).toBe(true);
    expect(((await alice.request('changePassword', { current: 'alice-secret', password: 'new\ud800' })) as unknown as Frame).error.code).toBe(
      ErrorCode.BAD_REQUEST,
    );
    const bob = await room.raw();
    await bob.hello();
    const login = (name: string, password: string) => bob.request('login', { name, password }) as unknown as Promise<Frame>;
    expect((await login('bob', 'pass\ud800')).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await login('bob\udc00', 'secret')).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await login('bob', 'pass\ufffd')).ok).toBe(true);
    const search = (await alice.request('search', { query: 'id\ud800' })) as unknown as Frame;
    expect(search.error.code).toBe(ErrorCode.BAD_REQUEST);
  });
});

describe('lengths count code points (§7)', () => {
  it('takes maxTextLength emoji and refuses one more; the same for clientMsgId and search.query', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    const emoji = (n: number): string => '😀'.repeat(n);
    const send = (clientMsgId: string, text: string) => alice.request('send', { clientMsgId, to: { kind: 'room' }, text }) as unknown as Promise<Frame>;
    expect((await send('a', emoji(LIMITS.maxTextLength))).ok).toBe(true);
    expect((await send('b', emoji(LIMITS.maxTextLength + 1))).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect((await send(emoji(LIMITS.maxClientMsgIdLength), 'x')).ok).toBe(true);
    expect((await send(emoji(LIMITS.maxClientMsgIdLength + 1), 'x')).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(((await alice.request('search', { query: emoji(LIMITS.maxSearchLength) })) as unknown as Frame).ok).toBe(true);
    expect(((await alice.request('search', { query: emoji(LIMITS.maxSearchLength + 1) })) as unknown as Frame).error.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('lets the client library send maxTextLength emoji', async () => {
    const bob = await room.user('bob');
    const sent = await bob.send({ kind: 'room' }, '😀'.repeat(LIMITS.maxTextLength));
    expect([...sent.text]).toHaveLength(LIMITS.maxTextLength);
  });
});

describe('sync (§7.6)', () => {
  it('answers 50 messages when no limit is given', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    for (let i = 0; i < 60; i++) alice.send({ type: 'send', id: 1000 + i, clientMsgId: `m${i}`, to: { kind: 'room' }, text: `m${i}` });
    await alice.waitFrame((f) => f.type === 'res' && f.id === 1059);
    const page = (await alice.request('sync', { after: 0 })) as unknown as Frame;
    expect(page.result.messages).toHaveLength(50);
    expect(page.result.hasMore).toBe(true);
  });
});

describe('login (§7.2, §8.2)', () => {
  it('does not send the logging-in connection its own presence', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    await room.user('bob');
    // Presence is gathered (§8.2): bob's arrives after anything alice's own login would have caused.
    await alice.waitFrame(announces('bob'));
    expect(presenceIn(alice.frames).map((state) => state.user)).toEqual(['bob']);
  });

  it('does not check the attempt after the free failures: even the right password waits', async () => {
    expect(await room.loginError('alice')).toBe('no error');
    for (let i = 0; i < 5; i++) expect(await room.loginError('alice', 'wrong')).toBe(ErrorCode.WRONG_PASSWORD);
    expect(await room.loginError('alice')).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
  });
});

describe('presence to a 1.0 or 1.1 client (§8.2)', () => {
  it('is one frame per user, as the JSON schema describes it', async () => {
    const alice = await room.raw();
    await alice.request('hello', { protocol: '1.1' });
    await alice.request('login', { name: 'alice', password: 'alice-secret' });
    await room.user('bob');
    const frame = await alice.waitFrame((f) => f.type === 'presence');
    expect(frame).toEqual({ type: 'presence', user: 'bob', online: true, ts: expect.any(Number) as number });
    const def = (protocolJsonSchema().$defs as Record<string, { properties: object; required: string[]; additionalProperties: boolean }>)['push.presence.1.0'];
    expect(def).toMatchObject({ required: Object.keys(frame), additionalProperties: false });
    expect(Object.keys(def!.properties)).toEqual(Object.keys(frame));
    expect(presenceBefore12.parse(frame)).toEqual(frame);
  });
});

describe('login.deliveredUpTo (§7.2, §11.1)', () => {
  const loginResult = async (peer: RawPeer): Promise<{ lastMessageId: number; deliveredUpTo: number }> =>
    ((await peer.login('alice')) as unknown as { result: { lastMessageId: number; deliveredUpTo: number } }).result;

  it('is how far the account got: the newest message it was sent, or after a drop what its last sync said it holds', async () => {
    const bob = await room.user('bob');
    await room.user('carol');
    const m1 = (await bob.send({ kind: 'room' }, 'before alice')).id;
    const first = await room.raw();
    // A new account has missed nothing: it starts at the newest message.
    expect(await loginResult(first)).toMatchObject({ lastMessageId: m1, deliveredUpTo: m1 });
    const m2 = (await bob.send({ kind: 'room' }, 'alice sees this')).id;
    await first.waitFrame((f) => f.type === 'message' && (f as unknown as { message: Message }).message.id === m2);
    // Newer, but not for alice: it does not count as reached.
    await bob.send({ kind: 'dm', user: 'carol' }, 'not for alice');
    await first.request('logout');
    await room.gone('alice');
    const m4 = (await bob.send({ kind: 'room' }, 'while alice is away')).id;

    const second = await room.raw();
    expect(await loginResult(second)).toMatchObject({ lastMessageId: m4, deliveredUpTo: m2 });
    await second.request('sync', { after: m2 });
    // The next sync says it holds m4.
    await second.request('sync', { after: m4 });
    const m5 = (await bob.send({ kind: 'room' }, 'in the socket when it drops')).id;
    await second.waitFrame((f) => f.type === 'message' && (f as unknown as { message: Message }).message.id === m5);
    // The server closes it (10 bad frames, §5.4): what it was sent may never have arrived.
    for (let i = 0; i < 10; i++) second.write(encodeFrame({ type: 'nonsense', id: 900 + i }));
    await second.waitClosed();
    await room.gone('alice');

    const third = await room.raw();
    expect(await loginResult(third)).toMatchObject({ lastMessageId: m5, deliveredUpTo: m4 });
  });

  it('does not count what came while the server was closing the connection, which was never written', async () => {
    const bob = await room.user('bob');
    const first = await room.raw();
    const { lastMessageId } = await loginResult(first);
    // alice's app takes nothing more: her socket stays open on the server for its grace period after the kick.
    first.socket.pause();
    await room.host.server.admin.kick('alice');
    const meanwhile = (await bob.send({ kind: 'room' }, 'while alice is being closed')).id;
    first.socket.resume();
    await first.waitClosed();
    await room.gone('alice');
    expect(first.frames.some((frame) => frame.type === 'message')).toBe(false);

    const second = await room.raw();
    expect(await loginResult(second)).toMatchObject({ lastMessageId: meanwhile, deliveredUpTo: lastMessageId });
  });
});

describe('large responses (§10.5)', () => {
  it('delivers a page above the 8 MiB queue cap to a client that reads, and the connection stays usable', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    const text = '\u0001'.repeat(LIMITS.maxTextLength);
    for (let i = 0; i < 200; i++) alice.send({ type: 'send', id: 1000 + i, clientMsgId: `m${i}`, to: { kind: 'room' }, text });
    await alice.waitFrame((f) => f.type === 'res' && f.id === 1199, 30_000);
    const before = alice.socket.bytesRead;
    const page = (await alice.request('history', { conv: 'room', limit: 200 })) as unknown as Frame;
    expect(alice.socket.bytesRead - before).toBeGreaterThan(8 * 1024 * 1024);
    expect(page.result.messages).toHaveLength(200);
    expect(((await alice.request('users')) as unknown as Frame).ok).toBe(true);
  });
});

// Bad type and id (§4.1) and the byte-order mark (§3) are transcripts in docs/vectors/framing.md.
describe('edge cases (§7.15)', () => {
  it('renames a group to a case variant of its own name', async () => {
    const alice = await room.user('alice');
    const { group } = await alice.request('groupCreate', { name: 'Team' });
    expect((await alice.request('groupRename', { groupId: group.id, name: 'TEAM' })).group.name).toBe('TEAM');
  });
});


describe('groupCreate checks in the documented order (§7.14)', () => {
  it('answers UNKNOWN_USER for any unknown name before CHAT_DECLINED, and creates nothing', async () => {
    const bob = await room.user('bob');
    const alice = await room.user('alice');
    await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    await expect(alice.request('groupCreate', { name: 'Team', members: ['bob', 'nobody'] })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
    expect((await alice.request('groups')).groups).toEqual([]);
  });
});
