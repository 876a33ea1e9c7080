/** Issue 10 items 16 and 18–22: what docs/PROTOCOL.md says is what the server does, over real sockets. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { LIMITS, PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { encodeFrame } from '../net/frame.js';
import { nextEvent } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

const room = useRoom({ start: { rateLimits: { framesPerSecond: Infinity, bytesPerSecond: Infinity } } });

type Frame = Record<string, any>;

describe('lone surrogates (§7.4)', () => {
  it('become one U+FFFD each, the same in the response, the push, history, sync, search and a resend', async () => {
    const bob = await room.user('bob');
    const pushed = nextEvent(bob, 'message');
    const alice = await room.raw();
    await alice.login('alice');
    const send = { clientMsgId: 'c1', to: { kind: 'room' }, text: 'lone\ud800mid\udc00end' };
    const expected = 'lone\ufffdmid\ufffdend';
    const sent = (await alice.request('send', send)) as Frame;
    expect(sent.result.message.text).toBe(expected);
    expect((await pushed)[0].text).toBe(expected);
    const history = (await alice.request('history', { conv: 'room' })) as Frame;
    const sync = (await alice.request('sync', { after: 0 })) as Frame;
    const search = (await alice.request('search', { query: 'lone' })) as Frame;
    const resend = (await alice.request('send', send)) as Frame;
    expect(history.result.messages.map((m: Frame) => m.text)).toEqual([expected]);
    expect(sync.result.messages.map((m: Frame) => m.text)).toEqual([expected]);
    expect(search.result.hits.map((h: Frame) => h.message.text)).toEqual([expected]);
    expect(resend.result).toMatchObject({ duplicate: true, message: { id: sent.result.message.id, text: expected } });
  });

  it('keeps a text of maxTextLength lone surrogates at maxTextLength characters', async () => {
    const alice = await room.raw();
    await alice.login('alice');
    const sent = (await alice.request('send', { clientMsgId: 'c', to: { kind: 'room' }, text: '\udc00'.repeat(LIMITS.maxTextLength) })) as Frame;
    expect(sent.result.message.text === '\ufffd'.repeat(LIMITS.maxTextLength)).toBe(true);
    const history = (await alice.request('history', { conv: 'room' })) as Frame;
    expect(history.result.messages[0].text === '\ufffd'.repeat(LIMITS.maxTextLength)).toBe(true);
  });
});
