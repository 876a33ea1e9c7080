import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent, SessionView } from '../../src-shared/api.js';
import { TEST_PASSWORD_COST, removeDir, tempDir, unwrap, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { AppCore } from './app.js';
import { hostedRoom } from './testing.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(profileDir = tempDir('lanchat-app-')): AppCore {
  const core = new AppCore({ profileDir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => removeDir(profileDir));
  cleanups.push(() => core.shutdown());
  return core;
}

/** Records a core's events and waits for the one a test expects. */
function recordEvents(core: AppCore) {
  const events: AppEvent[] = [];
  core.onEvent((event) => events.push(event));
  return {
    events,
    /** The first recorded event that matches (a test empties `events` to wait for a later one). */
    async next<T extends AppEvent>(predicate: (event: AppEvent) => event is T): Promise<T> {
      let found: T | undefined;
      await waitFor(() => (found = events.find(predicate)) !== undefined, 'a matching event');
      return found!;
    },
  };
}

async function hostRoom(core: AppCore, name = 'alice', password = 'alice-secret'): Promise<SessionView> {
  return unwrap(await core.host({ roomName: 'Lab', port: 0, name, password }));
}

describe('AppCore', () => {
  it('shows a mute in the session view from the push, also after logging in again, until it is lifted or ends', async () => {
    const alice = newCore();
    const bob = newCore();
    const bobEvents = recordEvents(bob);
    const { hosting } = await hostRoom(alice);
    const join = { host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' };
    unwrap(await bob.join(join));
    const session = (muted: boolean) => (e: AppEvent): e is Extract<AppEvent, { type: 'session' }> =>
      e.type === 'session' && (e.session.muted !== undefined) === muted;

    unwrap(await alice.hostAdmin({ kind: 'mute', user: 'bob', minutes: 10 }));
    const muted = await bobEvents.next(session(true));
    expect(muted.session.muted!.until).toBeGreaterThan(Date.now() + 9 * 60_000);

    // The host says it again to a new login; nothing else of this app remembers it.
    unwrap(await bob.leave());
    expect(unwrap(await bob.session()).muted).toBeUndefined();
    bobEvents.events.length = 0;
    unwrap(await bob.join(join));
    await bobEvents.next(session(true));

    bobEvents.events.length = 0;
    unwrap(await alice.hostAdmin({ kind: 'unmute', user: 'bob' }));
    await bobEvents.next(session(false));
    expect(unwrap(await bob.session()).muted).toBeUndefined();

    bobEvents.events.length = 0;
    unwrap(await alice.hostAdmin({ kind: 'mute', user: 'bob' }));
    expect((await bobEvents.next(session(true))).session.muted).toEqual({ until: null });
    unwrap(await alice.hostAdmin({ kind: 'mute', user: 'bob', minutes: 0.005 }));
    bobEvents.events.length = 0;
    await bobEvents.next(session(false));
  });

  it("names a direct chat's export after the other person, also while nothing is stored in it yet", async () => {
    const alice = newCore();
    const bob = newCore();
    await hostedRoom(alice, bob);
    const conv = unwrap(await bob.contacts()).find((contact) => contact.name === 'alice')!.conv;
    const exported = unwrap(await bob.exportConversation(conv, 'json'));
    expect(exported.fileName).toMatch(/^alice-\d{4}-\d{2}-\d{2}\.json$/);
    expect(JSON.parse(exported.content)).toMatchObject({ conv, title: 'alice', exportedBy: 'bob', messages: [] });
  });

  it('hosts a room that a second app joins, and messages flow both ways', async () => {
    const alice = newCore();
    const bob = newCore();
    const aliceEvents = recordEvents(alice);
    const bobEvents = recordEvents(bob);

    const hosted = await hostRoom(alice);
    expect(hosted.status).toBe('online');
    expect(hosted.me).toBe('alice');
    expect(hosted.roomName).toBe('Lab');
    const hosting = hosted.hosting!;
    expect(hosting.port).toBeGreaterThan(0);
    expect(hosting.loopbackOnly).toBe(hosting.addresses.length === 0);
    for (const address of hosting.addresses) expect(address).toMatch(new RegExp(`^\\d+\\.\\d+\\.\\d+\\.\\d+:${hosting.port}$`));

    const joined = unwrap(await bob.join({ host: '127.0.0.1', port: hosting.port, name: 'bob', password: 'bob-secret' }));
    expect(joined).toMatchObject({ status: 'online', me: 'bob', roomName: 'Lab', server: { host: '127.0.0.1', port: hosting.port } });
    expect(joined.hosting).toBeNull();

    await aliceEvents.next((e): e is Extract<AppEvent, { type: 'presence' }> => e.type === 'presence' && e.users.some((p) => p.user === 'bob' && p.online));
    const hostUsers = await aliceEvents.next(
      (e): e is Extract<AppEvent, { type: 'hostUsers' }> => e.type === 'hostUsers' && e.users.some((u) => u.name === 'bob'),
    );
    expect(hostUsers.users.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    expect(unwrap(await alice.hostUsers()).map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    expect(unwrap(await alice.hostLog()).some((entry) => entry.event === 'login' && entry.user === 'bob')).toBe(true);
    expect(aliceEvents.events.some((e) => e.type === 'hostLog')).toBe(true);

    const { clientMsgId } = unwrap(await alice.send({ kind: 'room' }, 'hello bob'));
    const received = await bobEvents.next(
      (e): e is Extract<AppEvent, { type: 'message' }> => e.type === 'message' && e.message.text === 'hello bob',
    );
    expect(received.message).toMatchObject({ from: 'alice', conv: 'room', clientMsgId });

    const outbox = () => aliceEvents.events.filter((e) => e.type === 'outbox' && e.clientMsgId === clientMsgId);
    await aliceEvents.next((e): e is AppEvent => e.type === 'outbox' && e.clientMsgId === clientMsgId && e.status === 'sent');
    // Queued, then queued again once it went out (it can no longer be cancelled), then sent.
    expect(outbox().map((e) => (e.type === 'outbox' ? [e.status, e.tried] : null)).slice(0, 3)).toEqual([
      ['queued', undefined],
      ['queued', true],
      ['sent', undefined],
    ]);
    expect(outbox()[0]).toMatchObject({ target: { kind: 'room' }, text: 'hello bob' });

    unwrap(await bob.send({ kind: 'room' }, 'hi alice'));
    await aliceEvents.next((e): e is AppEvent => e.type === 'message' && e.message.text === 'hi alice' && e.message.from === 'bob');

    const page = unwrap(await bob.history('room'));
    expect(page.messages.map((m) => m.text)).toEqual(['hello bob', 'hi alice']);
    expect(unwrap(await bob.unsent())).toEqual([]);
  });

  it('carries replies, edits, deletes, reactions, read positions and typing between two apps', async () => {
    const alice = newCore();
    const bob = newCore();
    const aliceEvents = recordEvents(alice);
    const bobEvents = recordEvents(bob);
    const { hosting } = await hostRoom(alice);
    const joined = unwrap(await bob.join({ host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' }));
    expect(joined).toMatchObject({ features: expect.arrayContaining(['edit', 'reactions']), limits: { editWindowMs: null } });
    type Of<T extends AppEvent['type']> = Extract<AppEvent, { type: T }>;
    const changeOf = (kind: string) => (e: AppEvent): e is Of<'event'> => e.type === 'event' && e.event.kind === kind;

    unwrap(await alice.send({ kind: 'room' }, 'original\nmore'));
    const { message: original } = await bobEvents.next((e): e is Of<'message'> => e.type === 'message');
    const { clientMsgId } = unwrap(await bob.send({ kind: 'room' }, 'a reply', original.id));
    expect(await bobEvents.next((e): e is Of<'outbox'> => e.type === 'outbox' && e.clientMsgId === clientMsgId)).toMatchObject({ replyTo: original.id });
    const { message: reply } = await aliceEvents.next((e): e is Of<'message'> => e.type === 'message' && e.message.text === 'a reply');
    expect(reply.replyTo).toEqual({ id: original.id, from: 'alice', snippet: 'original' });

    expect(unwrap(await alice.editMessage(original.id, 'changed'))).toMatchObject({ text: 'changed' });
    expect((await bobEvents.next(changeOf('edit'))).event).toMatchObject({ message: { id: original.id, text: 'changed' } });
    unwrap(await bob.react(original.id, '👍', true));
    expect((await aliceEvents.next(changeOf('reaction'))).event).toMatchObject({ message: { reactions: [{ emoji: '👍', users: ['bob'] }] } });
    expect(unwrap(await bob.markRead('room', reply.id))).toBe(reply.id);
    expect(unwrap(await bob.readState())).toEqual([{ conv: 'room', upTo: reply.id, unread: 0, mentions: 0 }]);
    expect(unwrap(await bob.receipts('room'))).toEqual([]);
    expect(unwrap(await bob.privacy({ sendReadReceipts: false }))).toEqual({ sendReadReceipts: false });
    expect(unwrap(await bob.privacy())).toEqual({ sendReadReceipts: false });

    unwrap(await bob.typing('room'));
    unwrap(await bob.typing('room'));
    expect(await aliceEvents.next((e): e is Of<'typing'> => e.type === 'typing')).toMatchObject({ user: 'bob', conv: 'room' });
    unwrap(await alice.deleteMessage(original.id));
    await bobEvents.next(changeOf('delete'));
    expect(aliceEvents.events.filter((e) => e.type === 'typing')).toHaveLength(1);
    const page = unwrap(await bob.history('room'));
    expect(page.messages.find((m) => m.id === reply.id)?.replyTo).toEqual({ id: original.id, from: 'alice', snippet: '', deleted: true });
    expect(await bob.editMessage(original.id, 'mine now')).toMatchObject({ ok: false, error: { code: 'NOT_YOUR_MESSAGE' } });
  });

  it('tells a joined app that the host closed the room (not that it is gone), and the host stops cleanly', async () => {
    const alice = newCore();
    const bob = newCore();
    const bobEvents = recordEvents(bob);
    const { hosting } = await hostRoom(alice);
    unwrap(await bob.join({ host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' }));

    unwrap(await alice.stopHosting());
    const closed = await bobEvents.next(
      (e): e is Extract<AppEvent, { type: 'session' }> => e.type === 'session' && e.session.status === 'reconnecting',
    );
    expect(closed.session.error?.code).toBe('SERVER_SHUTDOWN');
    const aliceSession = unwrap(await alice.session());
    expect(aliceSession).toMatchObject({ status: 'offline', hosting: null, error: null });
    expect((await alice.stopHosting()).ok).toBe(false);
    expect(unwrap(await alice.hostLog()).at(-1)?.event).toBe('stopped');
  });

  it('refuses a wrong password and explains when nothing listens', async () => {
    const alice = newCore();
    const mallory = newCore();
    const { hosting } = await hostRoom(alice);

    const wrong = await mallory.join({ host: '127.0.0.1', port: hosting!.port, name: 'alice', password: 'guess' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'WRONG_PASSWORD' } });
    const afterWrong = unwrap(await mallory.session());
    expect(afterWrong).toMatchObject({ status: 'offline', server: null, error: { code: 'WRONG_PASSWORD' } });

    const port = await freePort();
    const nobody = await mallory.join({ host: '127.0.0.1', port, name: 'mallory', password: 'pw' });
    expect(nobody).toEqual({
      ok: false,
      error: { code: 'CONNECT_FAILED', message: `Nothing is listening on 127.0.0.1:${port}` },
    });
    expect((await mallory.history('room')).ok).toBe(false);
  });

  it('reports a port in use', async () => {
    const occupant = createServer();
    await new Promise<void>((resolve) => occupant.listen(0, '0.0.0.0', resolve));
    cleanups.push(() => new Promise<void>((resolve) => occupant.close(() => resolve())));
    const port = (occupant.address() as AddressInfo).port;

    const alice = newCore();
    const result = await alice.host({ roomName: 'Lab', port, name: 'alice', password: 'alice-secret' });
    expect(result).toMatchObject({ ok: false, error: { code: 'PORT_IN_USE' } });
    expect(unwrap(await alice.session()).hosting).toBeNull();
  });

  it('keeps settings and the session token, never the password, and resumes with the token', async () => {
    const alice = newCore();
    const bobProfile = tempDir('lanchat-app-');
    const bob = newCore(bobProfile);
    const { hosting } = await hostRoom(alice);
    const port = hosting!.port;

    unwrap(await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    unwrap(await bob.updateSettings({ theme: 'dark', language: 'tr' }));

    const settingsText = readFileSync(join(bobProfile, 'settings.json'), 'utf8');
    expect(JSON.parse(settingsText)).toMatchObject({ lastHost: '127.0.0.1', lastPort: port, lastName: 'bob', theme: 'dark', language: 'tr' });
    const sessionFile = join(bobProfile, 'session.json');
    const sessionText = readFileSync(sessionFile, 'utf8');
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(sessionText)[`127.0.0.1:${port}`]).toMatchObject({ name: 'bob', token: expect.any(String) });
    for (const text of [settingsText, sessionText]) expect(text).not.toContain('bob-secret');

    // A restart: a new core on the same profile remembers the form and logs in without the password.
    await bob.shutdown();
    const restarted = newCore(bobProfile);
    expect(unwrap(await restarted.settings())).toMatchObject({ lastMode: 'join', lastHost: '127.0.0.1', lastPort: port, theme: 'dark' });
    const resumed = unwrap(await restarted.join({ host: '127.0.0.1', port, name: 'bob', password: '' }));
    expect(resumed).toMatchObject({ status: 'online', me: 'bob' });

    // Leaving keeps the session; signing out logs out: the token is gone, and an empty password no longer works.
    unwrap(await restarted.leave());
    expect(JSON.parse(readFileSync(sessionFile, 'utf8'))[`127.0.0.1:${port}`]).toMatchObject({ name: 'bob' });
    unwrap(await restarted.join({ host: '127.0.0.1', port, name: 'bob', password: '' }));
    unwrap(await restarted.signOut());
    expect(JSON.parse(readFileSync(sessionFile, 'utf8'))).toEqual({});
    const noSession = await restarted.join({ host: '127.0.0.1', port, name: 'bob', password: '' });
    expect(noSession).toMatchObject({ ok: false, error: { code: 'NO_SAVED_SESSION' } });
  });

  it('shows the room fingerprint, pins it on the first join and blocks a changed one until the user accepts it', async () => {
    const alice = newCore();
    const carolProfile = tempDir('lanchat-app-');
    const carol = newCore(carolProfile);
    const { hosting } = await hostRoom(alice);
    const port = hosting!.port;
    const genuine = hosting!.fingerprint!;
    expect(genuine).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(unwrap(await alice.session()).security).toEqual({ encrypted: true, fingerprint: genuine, firstUse: false });

    const first = unwrap(await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    expect(first.security).toEqual({ encrypted: true, fingerprint: genuine, firstUse: true });
    const pinFile = join(carolProfile, 'pins.json');
    expect(JSON.parse(readFileSync(pinFile, 'utf8'))).toEqual({ [`127.0.0.1:${port}`]: genuine });
    // Once acknowledged (in any window), the first use is over for this connection.
    unwrap(await carol.acknowledgeFingerprint());
    expect(unwrap(await carol.session()).security).toEqual({ encrypted: true, fingerprint: genuine, firstUse: false });
    unwrap(await carol.leave());
    const second = unwrap(await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    expect(second.security).toMatchObject({ firstUse: false });
    unwrap(await carol.leave());

    // Another room (another certificate) answers on the same address.
    unwrap(await alice.stopHosting());
    const impostor = newCore();
    const other = unwrap(await impostor.host({ roomName: 'Lab', port, name: 'mallory', password: 'mallory-secret' }));
    const presented = other.hosting!.fingerprint!;
    expect(presented).not.toBe(genuine);
    const blocked = await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' });
    expect(blocked).toMatchObject({
      ok: false,
      error: { code: 'FINGERPRINT_CHANGED', fingerprints: { pinned: genuine, presented } },
    });
    expect(!blocked.ok && blocked.error.message).toContain(presented);
    // Nothing reached the impostor: carol is not even registered there.
    expect(unwrap(await impostor.users()).map((u) => u.name)).toEqual(['mallory']);

    const accepted = unwrap(
      await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret', acceptFingerprint: presented }),
    );
    // The user has just looked at this fingerprint: it is not a first connection to be checked again.
    expect(accepted.security).toEqual({ encrypted: true, fingerprint: presented, firstUse: false });
    expect(JSON.parse(readFileSync(pinFile, 'utf8'))).toEqual({ [`127.0.0.1:${port}`]: presented });
  });

  it('lists the hosts it trusts and forgets one: the next join is a first use again', async () => {
    const alice = newCore();
    const carolProfile = tempDir('lanchat-app-');
    const carol = newCore(carolProfile);
    const { hosting } = await hostRoom(alice);
    const port = hosting!.port;
    expect(unwrap(await carol.trustedHosts())).toEqual([]);
    unwrap(await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    expect(unwrap(await carol.trustedHosts())).toEqual([{ server: `127.0.0.1:${port}`, fingerprint: hosting!.fingerprint, roomName: 'Lab' }]);
    unwrap(await carol.leave());

    unwrap(await carol.forgetHost(`127.0.0.1:${port}`));
    expect(unwrap(await carol.trustedHosts())).toEqual([]);
    expect(JSON.parse(readFileSync(join(carolProfile, 'pins.json'), 'utf8'))).toEqual({});
    expect(await carol.forgetHost(`127.0.0.1:${port}`)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const again = unwrap(await carol.join({ host: '127.0.0.1', port, name: 'carol', password: 'carol-secret' }));
    expect(again.security).toEqual({ encrypted: true, fingerprint: hosting!.fingerprint, firstUse: true });
  });

  it('hosts without TLS only when asked, says so, and joins such a room only with consent', async () => {
    const alice = newCore();
    const bob = newCore();
    const hosted = unwrap(await alice.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret', tls: false }));
    expect(hosted.hosting?.fingerprint).toBeNull();
    expect(hosted.security).toEqual({ encrypted: false });
    const port = hosted.hosting!.port;

    const refused = await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_ENCRYPTED' } });
    expect(unwrap(await alice.users()).map((u) => u.name)).toEqual(['alice']);
    const joined = unwrap(await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret', allowUnencrypted: true }));
    expect(joined.security).toEqual({ encrypted: false });
    // The consent is remembered for this host.
    unwrap(await bob.leave());
    expect(unwrap(await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' })).security).toEqual({
      encrypted: false,
    });
    // Until the user takes the consent back.
    expect(unwrap(await bob.trustedHosts())).toEqual([{ server: `127.0.0.1:${port}`, fingerprint: null, roomName: null }]);
    unwrap(await bob.leave());
    unwrap(await bob.forgetHost(`127.0.0.1:${port}`));
    expect(await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' })).toMatchObject({ ok: false, error: { code: 'NOT_ENCRYPTED' } });
  });

  it('refuses invalid calls with a Result error', async () => {
    const core = newCore();
    const refusals = await Promise.all([
      core.dispatch('join', [{ host: '127.0.0.1', port: 70000, name: 'bob', password: 'x' }]),
      core.dispatch('join', [{ host: '127.0.0.1', port: 7171, name: 'bob', password: 'x', admin: true }]),
      core.dispatch('host', [{ roomName: 'Lab', port: 80, name: 'bob', password: 'x' }]),
      core.dispatch('send', [{ kind: 'room' }, '']),
      core.dispatch('send', [{ kind: 'everyone' }, 'hi']),
      core.dispatch('history', ['../etc/passwd']),
      core.dispatch('history', 'room'),
      core.dispatch('updateSettings', [{ theme: 'neon' }]),
      core.dispatch('updateSettings', [{ password: 'secret' }]),
      core.dispatch('groupDelete', [-1]),
      core.dispatch('join', [{ host: '127.0.0.1', port: 7171, name: 'bob', password: 'x', acceptFingerprint: 'anything' }]),
      core.dispatch('constructor', []),
      core.dispatch('onEvent', []),
    ]);
    for (const refusal of refusals) expect(refusal).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(refusals[0]).toMatchObject({ error: { message: expect.stringContaining('argument 1.port') } });

    // Arguments the bridge delivers as JSON: null stands for a missing optional argument.
    expect(await core.dispatch('history', ['room', null, 20])).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
    expect(await core.openChatWindow('room')).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    expect(unwrap(await core.settings()).theme).toBe('system');
  });
});

describe('AppCore room access and host admin', () => {
  it('hosts an approval room: the host joins at once, others wait for Approve, and admin actions spare the host', async () => {
    const alice = newCore();
    const bob = newCore();
    const aliceEvents = recordEvents(alice);
    const hosted = unwrap(await alice.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret', access: 'approval' }));
    const port = hosted.hosting!.port;

    const waiting = await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' });
    expect(waiting).toMatchObject({ ok: false, error: { code: 'PENDING_APPROVAL' } });
    const pending = await aliceEvents.next(
      (event): event is Extract<AppEvent, { type: 'hostPending' }> => event.type === 'hostPending' && event.users.length === 1,
    );
    expect(pending.users[0]?.name).toBe('bob');
    unwrap(await alice.hostAdmin({ kind: 'approve', user: 'bob' }));
    expect(unwrap(await alice.hostPending())).toEqual([]);

    unwrap(await bob.join({ host: '127.0.0.1', port, name: 'bob', password: 'bob-secret' }));
    const users = unwrap(await alice.hostUsers());
    expect(users.find((user) => user.name === 'bob')).toMatchObject({ clients: ['lanchat-desktop/0.1.0'], muted: false });
    expect(await alice.hostAdmin({ kind: 'kick', user: 'alice' })).toMatchObject({ ok: false, error: { code: 'INVALID_TARGET' } });
    expect(await bob.hostAdmin({ kind: 'kick', user: 'alice' })).toMatchObject({ ok: false, error: { code: 'NOT_HOSTING' } });

    expect(await bob.changePassword('wrong', 'bob-new')).toMatchObject({ ok: false, error: { code: 'WRONG_PASSWORD' } });
    unwrap(await bob.changePassword('bob-secret', 'bob-new'));
    const reset = unwrap(await alice.hostAdmin({ kind: 'resetPassword', user: 'bob' }));
    expect(reset.password).toEqual(expect.any(String));

    unwrap(await alice.hostAdmin({ kind: 'banAddress', address: '10.9.8.7:1234' }));
    expect(unwrap(await alice.hostBans())).toMatchObject([{ kind: 'address', value: '10.9.8.7' }]);
    await aliceEvents.next(
      (event): event is Extract<AppEvent, { type: 'hostBans' }> => event.type === 'hostBans' && event.bans.length === 1,
    );
  });

  it('refuses a passphrase room without a passphrase before starting anything', async () => {
    const alice = newCore();
    const result = await alice.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'pw', access: 'passphrase' });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('hosts with the file limits asked for: a 1 MB limit refuses a 2 MB file for everyone, and the next host form remembers them', async () => {
    const profile = tempDir('lanchat-app-');
    const alice = newCore(profile);
    const bob = newCore();
    const fileLimits = { maxFileBytes: 1024 * 1024, maxFileStorageBytes: 64 * 1024 * 1024 };
    const { hosting } = unwrap(await alice.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret', fileLimits }));
    unwrap(await bob.join({ host: '127.0.0.1', port: hosting!.port, name: 'bob', password: 'bob-secret' }));
    const big = join(profile, 'photos.zip');
    writeFileSync(big, randomBytes(2 * 1024 * 1024));
    const refused = { ok: false, error: { code: 'FILE_TOO_LARGE', message: 'photos.zip is too large: the host allows 1 MB', file: 'photos.zip' } };
    expect(await alice.sendFiles({ kind: 'room' }, [{ path: big }], '')).toEqual(refused);
    expect(await bob.sendFiles({ kind: 'room' }, [{ path: big }], '')).toEqual(refused);
    // Under the limit it goes; the limits not given keep the defaults.
    const small = join(profile, 'notes.txt');
    writeFileSync(small, 'fits');
    unwrap(await bob.sendFiles({ kind: 'room' }, [{ path: small }], 'small'));
    expect(unwrap(await alice.settings()).lastFileLimits).toEqual(fileLimits);

    // Hosted again without limits: the defaults are back, and the form will be empty next time.
    unwrap(await alice.stopHosting());
    unwrap(await alice.host({ roomName: 'Lab', port: hosting!.port, name: 'alice', password: 'alice-secret' }));
    const { transfers } = unwrap(await alice.sendFiles({ kind: 'room' }, [{ path: big }], ''));
    expect(transfers).toHaveLength(1);
    expect(unwrap(await alice.settings()).lastFileLimits).toEqual({});
  });

  it('refuses file limits that are not a whole number of bytes above 0', async () => {
    const alice = newCore();
    for (const fileLimits of [{ maxFileBytes: 0 }, { maxFileBytesPerDay: 1.5 }, { maxFileStorageBytes: -1 }, { maxFiles: 3 }]) {
      const result = await alice.dispatch('host', [{ roomName: 'Lab', port: 0, name: 'alice', password: 'pw', fileLimits }]);
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('fileLimits') } });
    }
    expect(unwrap(await alice.session()).hosting).toBe(null);
  });
});
