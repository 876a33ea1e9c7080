import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { type RawPeer, collectMessages, login, nextEvent, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';

const room = useRoom({ start: {} });

describe('bad input', () => {
  it('answers every kind of bad frame and keeps serving others', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const bobMessages = collectMessages(bob);

    const cases: [string, (peer: RawPeer) => void, string][] = [
      ['invalid UTF-8', (p) => p.write(Buffer.from([0, 0, 0, 2, 0xc3, 0x28])), ErrorCode.BAD_FRAME],
      ['invalid JSON', (p) => p.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x:')])), ErrorCode.BAD_FRAME],
      ['a JSON array', (p) => p.send([1, 2] as unknown as Record<string, unknown>), ErrorCode.BAD_FRAME],
      ['unknown type', (p) => p.send({ type: 'teleport', id: 1 }), ErrorCode.UNKNOWN_TYPE],
      ['wrong field type', (p) => p.send({ type: 'hello', id: 1, protocol: 7 }), ErrorCode.BAD_REQUEST],
      ['missing id', (p) => p.send({ type: 'hello', protocol: '1.0' }), ErrorCode.BAD_REQUEST],
      ['extra field', (p) => p.send({ type: 'hello', id: 1, protocol: '1.0', admin: true }), ErrorCode.BAD_REQUEST],
    ];
    for (const [what, act, code] of cases) {
      const peer = await room.raw();
      act(peer);
      const answer = await peer.waitFrame((f) => f.type === 'error' || f.type === 'res');
      const error = 'error' in answer ? answer.error : undefined;
      expect(error?.code, what).toBe(code);
      await alice.send({ kind: 'room' }, `still here after ${what}`);
    }

    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2])]) {
      const peer = await room.raw();
      peer.write(garbage);
      const bye = await peer.waitFrame((f) => f.type === 'bye');
      expect(bye).toMatchObject({ error: { code: ErrorCode.FRAME_TOO_LARGE } });
      await peer.waitClosed();
    }

    const repeat = await room.raw();
    for (let i = 0; i < 12; i++) repeat.send({ type: 'nope', id: i });
    await repeat.waitFrame((f) => f.type === 'bye' && f.error.code === ErrorCode.TOO_MANY_ERRORS);

    await alice.send({ kind: 'room' }, 'final');
    await waitFor(() => bobMessages.texts().includes('final'));
    expect(bobMessages.texts()).toHaveLength(cases.length + 1);
  });

  it('drops a client that stops reading once its queue passes the cap', async () => {
    await room.stop();
    // Rate limits off: this test needs alice to outpace the sleeper's socket buffers quickly.
    await room.start({ maxQueuedBytes: 256 * 1024, rateLimits: { framesPerSecond: Infinity } });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const sleeper = await room.raw();
    await sleeper.login('sleeper');
    sleeper.socket.pause();
    // The longest text, escaped to ~48 KB on the wire: the sleeper's socket buffers fill in few sends.
    const text = '\u0001'.repeat(8000);
    const bobMessages = collectMessages(bob);
    let sent = 0;
    let dropped = false;
    // Not by presence: the sleeper may be dropped before its arrival was ever announced (PROTOCOL.md §8.2).
    void room.gone('sleeper').then(() => (dropped = true));
    while (!dropped && sent < 10_000) {
      await alice.send({ kind: 'room' }, text);
      sent += 1;
    }
    expect(dropped).toBe(true);
    await waitFor(() => bobMessages.texts().length === sent);
    expect(room.logText()).toContain(ErrorCode.SLOW_CONSUMER);
  });
});

describe('restart', () => {
  it('keeps accounts, groups and history, and clients reconnect without loss or duplicates', async () => {
    // Not on port 0: the host comes back on its port, which no other test's connection may take meanwhile.
    await room.restart({ port: await freePort() });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const { group } = await alice.request('groupCreate', { name: 'Keepers', members: ['bob'] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    await alice.send({ kind: 'group', groupId: group.id }, 'before restart');
    const bobTexts = collectMessages(bob);
    const port = room.host.address.port;

    const offline = nextEvent(alice, 'offline');
    await room.stop();
    await offline;
    const queued = alice.send({ kind: 'room' }, 'sent while the host was down');
    await room.start({ port });
    await nextEvent(alice, 'online');
    await queued;
    await waitFor(() => bobTexts.texts().includes('sent while the host was down'));

    const page = await bob.request('history', { conv: 'room' });
    expect(page.messages.filter((m) => m.text === 'sent while the host was down')).toHaveLength(1);
    expect(bobTexts.texts().filter((t) => t === 'sent while the host was down')).toHaveLength(1);
    expect((await bob.request('groups')).groups.map((g) => g.name)).toEqual(['Keepers']);
    const groupHistory = (await bob.request('history', { conv: group.conv })).messages;
    expect(groupHistory.filter((m) => !m.groupEvent).map((m) => m.text)).toEqual(['before restart']);
  });
});

describe('server log', () => {
  it('records connections, registrations, logins, failures, chat requests and disconnects with ISO times', async () => {
    const alice = await room.user('alice');
    await expect(login(room.host, 'alice', 'wrong')).rejects.toMatchObject({ code: ErrorCode.WRONG_PASSWORD });
    const bob = await room.user('bob');
    await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    bob.close();
    await room.gone('bob');
    const entries = room.logText()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { time: string; event: string });
    const events = new Set(entries.map((e) => e.event));
    for (const event of ['listening', 'connection', 'registration', 'login', 'failed login', 'chat request', 'chat request answered', 'disconnect']) {
      expect(events, event).toContain(event);
    }
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
