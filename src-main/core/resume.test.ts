import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { deviceStoreKey, openSealed, sealValue } from '../client/e2ee-store.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionView } from '../../src-shared/api.js';
import type { ChatMessage, GroupInfo, HistoryPage, UserInfo } from '../../src-shared/protocol/objects.js';
import { removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { startResumingApp } from './testing.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function profile(): string {
  const dir = tempDir('lanchat-resume-');
  cleanups.push(() => removeDir(dir));
  return dir;
}

/** An app as a shell runs it; `stop()` is quitting it (the saved session stays valid). */
function startApp(profileDir: string, retryDelays?: { minMs: number; maxMs: number }) {
  return startResumingApp(profileDir, cleanups, retryDelays);
}

const PASSWORD = 'a-password-never-stored';

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('automatic sign-in', () => {
  it('rejoins the room with the saved token after a restart, showing the last conversations while it connects', async () => {
    const aliceDir = profile();
    const bobDir = profile();
    const alice = startApp(aliceDir);
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    let bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    await bob.call<GroupInfo>('groupCreate', 'Cats');
    await bob.call('send', { kind: 'room' }, 'hello before the restart');
    await waitFor(() => bob.events.some((e) => e.type === 'outbox' && e.status === 'sent'), 'the message stored');
    // What a window loads, and so what the snapshot keeps.
    await bob.call('users');
    await bob.call('groups');
    const live = await bob.call<HistoryPage>('history', 'room');
    await bob.stop();

    expect(JSON.parse(readFileSync(join(bobDir, 'room.json'), 'utf8'))).toEqual({
      kind: 'join',
      host: '127.0.0.1',
      port,
      name: 'bob',
      roomName: 'Lab',
    });
    for (const file of ['room.json', 'snapshot.json', 'session.json']) {
      expect(statSync(join(bobDir, file)).mode & 0o777).toBe(0o600);
    }
    for (const file of filesOf(bobDir)) expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD);

    // As an app from before group invitations saved it: groups without `invited`.
    const snapshotFile = join(bobDir, 'snapshot.json');
    const key = deviceStoreKey(bobDir);
    const saved = openSealed(readFileSync(snapshotFile), key, snapshotFile) as { groups: Partial<GroupInfo>[] };
    for (const kept of saved.groups) delete kept.invited;
    writeFileSync(snapshotFile, sealValue(key, saved), { mode: 0o600 });

    bob = startApp(bobDir);
    const resuming = bob.core.resume();
    // Before the login answers: the room, the name and the last conversations, from the profile.
    const early = await bob.call<SessionView>('session');
    expect(early).toMatchObject({ status: 'connecting', me: 'bob', roomName: 'Lab', resumed: true });
    expect(await bob.call<GroupInfo[]>('groups')).toMatchObject([{ name: 'Cats', invited: [] }]);
    expect((await bob.call<UserInfo[]>('users')).every((user) => !user.online)).toBe(true);
    const page = await bob.call<HistoryPage>('history', 'room');
    expect(page.messages.map((m) => m.text)).toContain('hello before the restart');
    // A page from the snapshot is a whole history page: how far bob's messages were delivered, as last answered.
    expect(page.deliveredUpTo).toBe(live.deliveredUpTo);

    const resumed = await resuming;
    expect(resumed).toMatchObject({ ok: true, value: { status: 'online', me: 'bob' } });
    expect(await bob.call<SessionView>('session')).toMatchObject({ status: 'online', me: 'bob', resumed: true });
    // To the room: a group whose invitees have not joined has nobody to encrypt to (E2EE_UNAVAILABLE, e2ee-core.test.ts).
    await bob.call('send', { kind: 'room' }, 'after the restart');
    await waitFor(() => bob.events.some((e) => e.type === 'outbox' && e.status === 'sent' && e.text === 'after the restart'));
  });

  it('applies the edits, deletes, reactions and messages made while the app was closed, once each, from where it stopped', async () => {
    const alice = startApp(profile());
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    const bobDir = profile();
    let bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    const sent = async (text: string): Promise<ChatMessage> => {
      await alice.call('send', { kind: 'room' }, text);
      await waitFor(() => bob.events.some((e) => e.type === 'message' && e.message.text === text), `bob to get "${text}"`);
      return (bob.events.find((e) => e.type === 'message' && e.message.text === text) as { message: ChatMessage }).message;
    };
    const [edited, deleted, reacted] = [await sent('see you at noon'), await sent('wrong room, sorry'), await sent('cake in the kitchen')];
    await bob.call('history', 'room');
    await bob.stop();

    await alice.call('editMessage', edited.id, 'see you at one');
    await alice.call('deleteMessage', deleted.id);
    await alice.call('react', reacted.id, '🎂', true);
    await alice.call('send', { kind: 'room' }, 'while you were away');
    await waitFor(() => alice.events.some((e) => e.type === 'outbox' && e.status === 'sent' && e.text === 'while you were away'));

    bob = startApp(bobDir);
    expect(await bob.core.resume()).toMatchObject({ ok: true, value: { status: 'online' } });
    const changes = bob.events.flatMap((e) => (e.type === 'event' && e.event.kind !== 'read' ? [e.event] : []));
    expect(changes.map((change) => [change.kind, change.message.id])).toEqual([
      ['edit', edited.id],
      ['delete', deleted.id],
      ['reaction', reacted.id],
    ]);
    expect(changes[0]!.message.text).toBe('see you at one');
    expect(bob.events.filter((e) => e.type === 'message').map((e) => (e as { message: ChatMessage }).message.text)).toEqual(['while you were away']);
    // The conversations shown at the next start already hold the changes.
    await bob.stop();
    expect(statSync(join(bobDir, 'events.json')).mode & 0o777).toBe(0o600);
    const snapshot = openSealed(readFileSync(join(bobDir, 'snapshot.json')), deviceStoreKey(bobDir), 'snapshot') as { pages: { page: { messages: ChatMessage[] } }[] };
    const kept = snapshot.pages[0]!.page.messages;
    expect(kept.map((m) => m.text)).toEqual(['see you at one', '', 'cake in the kitchen', 'while you were away']);
    expect(kept[1]!.deleted).toBe(true);
    expect(kept[2]!.reactions).toEqual([{ emoji: '🎂', users: ['alice'] }]);

    // Nothing is applied twice: the next start has nothing new to catch up on.
    bob = startApp(bobDir);
    expect(await bob.core.resume()).toMatchObject({ ok: true });
    expect(bob.events.filter((e) => e.type === 'event' || e.type === 'message')).toEqual([]);
  });

  it('keeps in the snapshot the messages and changes that came while its conversation was loading', async () => {
    const alice = startApp(profile());
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    const bobDir = profile();
    const bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    const arrived = (text: string) => waitFor(() => bob.events.some((e) => e.type === 'message' && e.message.text === text), `bob to get "${text}"`);
    await alice.call('send', { kind: 'room' }, 'see you at noon');
    await arrived('see you at noon');
    const noon = (bob.events.find((e) => e.type === 'message' && e.message.text === 'see you at noon') as { message: ChatMessage }).message;
    // The page is read from the host before alice writes and edits, and answered after both reached bob's app
    // (a window's first load after a login, as messages come).
    const inner = bob.core['core'].calls;
    const history = inner.history.bind(inner);
    let pageRead!: () => void;
    const read = new Promise<void>((resolve) => (pageRead = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    inner.history = async (...args) => {
      const page = await history(...args);
      pageRead();
      await released;
      return page;
    };
    const loading = bob.call<HistoryPage>('history', 'room');
    await read;
    await alice.call('send', { kind: 'room' }, 'while the page loads');
    await arrived('while the page loads');
    await alice.call('editMessage', noon.id, 'see you at one');
    await waitFor(() => bob.events.some((e) => e.type === 'event' && e.event.kind === 'edit' && e.event.message.text === 'see you at one'), 'the edit');
    release();
    expect((await loading).messages.map((m) => m.text)).toEqual(['see you at noon']);
    await bob.stop();
    const snapshot = openSealed(readFileSync(join(bobDir, 'snapshot.json')), deviceStoreKey(bobDir), 'snapshot') as { pages: { page: { messages: ChatMessage[] } }[] };
    expect(snapshot.pages[0]!.page.messages.map((m) => m.text)).toEqual(['see you at one', 'while the page loads']);
  });

  it('restarts the hosted room and rejoins it as its host', async () => {
    const dir = profile();
    let alice = startApp(dir);
    // Not port 0: the restart binds the same port, which no other test's connection may take meanwhile.
    const hosted = await alice.call<SessionView>('host', { roomName: 'Lab', port: await freePort(), name: 'alice', password: PASSWORD });
    await alice.call('send', { kind: 'room' }, 'kept in the room');
    await waitFor(() => alice.events.some((e) => e.type === 'outbox' && e.status === 'sent'));
    await alice.stop();
    expect(JSON.parse(readFileSync(join(dir, 'room.json'), 'utf8'))).toEqual({
      kind: 'host',
      port: hosted.hosting!.port,
      name: 'alice',
      roomName: 'Lab',
      tls: true,
    });

    alice = startApp(dir);
    const resumed = await alice.core.resume();
    expect(resumed).toMatchObject({ ok: true, value: { status: 'online', me: 'alice', resumed: true, hosting: { port: hosted.hosting!.port } } });
    const page = await alice.call<{ messages: ChatMessage[] }>('history', 'room');
    expect(page.messages.map((m) => m.text)).toEqual(['kept in the room']);
    // Stopping the room forgets it: the next start has nothing to restart.
    await alice.call('stopHosting');
    expect(existsSync(join(dir, 'room.json'))).toBe(false);
    expect(existsSync(join(dir, 'snapshot.json'))).toBe(false);
  });

  it('forgets a remembered room that no window could have entered, with the reason', async () => {
    const dir = profile();
    // Below 1024: a port the host form refuses, so not one the app wrote.
    writeFileSync(join(dir, 'room.json'), JSON.stringify({ kind: 'host', port: 80, name: 'alice', roomName: 'Lab', tls: true }), { mode: 0o600 });
    const alice = startApp(dir);
    const resumed = await alice.core.resume();
    expect(resumed).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('port') } });
    expect(await alice.call<SessionView>('session')).toMatchObject({ status: 'offline', error: { code: 'INVALID_ARGUMENT' } });
    expect(existsSync(join(dir, 'room.json'))).toBe(false);
  });

  it('joins a room on several addresses through one that answers, and rejoins it so after a restart', async () => {
    const alice = startApp(profile());
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    // The first node is down: nothing listens there.
    const down = await freePort();
    const bobDir = profile();
    let bob = startApp(bobDir);
    const alternates = [{ host: '127.0.0.1', port }];
    const joined = await bob.call<SessionView>('join', { host: '127.0.0.1', port: down, alternates, name: 'bob', password: PASSWORD });
    expect(joined).toMatchObject({ status: 'online', me: 'bob', server: { host: '127.0.0.1', port: down, alternates } });
    expect((await bob.call<{ lastHost: string }>('settings')).lastHost).toBe(`127.0.0.1:${down}, 127.0.0.1:${port}`);
    await bob.stop();
    expect(JSON.parse(readFileSync(join(bobDir, 'room.json'), 'utf8'))).toMatchObject({ kind: 'join', host: '127.0.0.1', port: down, alternates });

    bob = startApp(bobDir);
    expect(await bob.core.resume()).toMatchObject({ ok: true, value: { status: 'online', me: 'bob', resumed: true, server: { alternates } } });
  });

  it('falls back to the start screen with a clear message when the server no longer accepts the token', async () => {
    const alice = startApp(profile());
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    const bobDir = profile();
    let bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    await bob.stop();
    // A password reset ends every session of the account.
    await alice.call('hostAdmin', { kind: 'resetPassword', user: 'bob', password: 'another-password' });

    bob = startApp(bobDir);
    const resumed = await bob.core.resume();
    expect(resumed).toMatchObject({ ok: false, error: { code: 'BAD_TOKEN' } });
    const view = await bob.call<SessionView>('session');
    expect(view).toMatchObject({ status: 'offline', me: null, error: { code: 'BAD_TOKEN' } });
    expect(view.error!.message).toBe(`The saved session on 127.0.0.1:${port} has ended; enter the password to log in again`);
    expect(view.resumed).toBeUndefined();
    expect(existsSync(join(bobDir, 'room.json'))).toBe(false);
    expect(existsSync(join(bobDir, 'snapshot.json'))).toBe(false);
    // Nothing left to resume the next time.
    await bob.stop();
    expect(await startApp(bobDir).core.resume()).toBeNull();
  });

  it('leaving keeps the room and its session; signing out logs out and forgets both; a host signing out stops her room', async () => {
    const aliceDir = profile();
    const alice = startApp(aliceDir);
    const { port } = (await alice.call<SessionView>('host', { roomName: 'Lab', port: 0, name: 'alice', password: PASSWORD })).hosting!;
    const bobDir = profile();
    const bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    await bob.call('history', 'room');
    // Leaving is not signing out: the room and its session stay, for an empty password or the next start.
    await alice.call('send', { kind: 'room' }, 'an event to keep the cursor of');
    await waitFor(() => bob.events.some((e) => e.type === 'message'));
    await bob.call('leave');
    expect(existsSync(join(bobDir, 'room.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(bobDir, 'session.json'), 'utf8'))[`127.0.0.1:${port}`]).toMatchObject({ name: 'bob' });
    expect(JSON.parse(readFileSync(join(bobDir, 'events.json'), 'utf8'))[`127.0.0.1:${port}`]).toMatchObject({ name: 'bob' });
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: '' });
    await bob.call('signOut');
    expect(existsSync(join(bobDir, 'room.json'))).toBe(false);
    expect(existsSync(join(bobDir, 'snapshot.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(bobDir, 'session.json'), 'utf8'))).toEqual({});
    expect(JSON.parse(readFileSync(join(bobDir, 'events.json'), 'utf8'))).toEqual({});
    expect(await bob.core.resume()).toBeNull();

    await alice.call('signOut');
    const view = await alice.call<SessionView>('session');
    expect(view).toMatchObject({ status: 'offline', hosting: null });
    expect(existsSync(join(aliceDir, 'room.json'))).toBe(false);
    // The room is gone, not running unreachable: nobody can join it.
    const joinAgain = await bob.core.dispatch('join', [{ host: '127.0.0.1', port, name: 'bob', password: PASSWORD }]);
    expect(joinAgain).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
  });
});

describe('automatic sign-in to a host that is not up yet', () => {
  /** Alice hosted a room that bob joined (and did `before` in); both apps have quit. */
  async function hostGone(before?: (bob: ReturnType<typeof startApp>) => Promise<void>) {
    const aliceDir = profile();
    const bobDir = profile();
    const alice = startApp(aliceDir);
    const hosting = { roomName: 'Lab', port: await freePort(), name: 'alice', password: PASSWORD };
    const { port } = (await alice.call<SessionView>('host', hosting)).hosting!;
    const bob = startApp(bobDir);
    await bob.call('join', { host: '127.0.0.1', port, name: 'bob', password: PASSWORD });
    await before?.(bob);
    await bob.stop();
    await alice.stop();
    return { aliceDir, bobDir, bob: startApp(bobDir, { minMs: 50, maxMs: 200 }) };
  }

  it('keeps trying, showing the last conversations, until the host is back', async () => {
    const { aliceDir, bob: bob2 } = await hostGone(async (bob) => {
      await bob.call('groupCreate', 'Cats');
      await bob.call('groups');
    });
    const resuming = bob2.core.resume();
    const view = await bob2.untilStatus('reconnecting', 5000);
    expect(view).toMatchObject({ status: 'reconnecting', me: 'bob', roomName: 'Lab', error: { code: 'CONNECT_FAILED' } });
    expect((await bob2.call<GroupInfo[]>('groups')).map((g) => g.name)).toEqual(['Cats']);

    await startApp(aliceDir).core.resume();
    expect(await resuming).toMatchObject({ ok: true, value: { status: 'online', me: 'bob' } });
  });

  it('stops trying when the user signs out, and forgets the room and its session', async () => {
    const { bobDir, bob: bob2 } = await hostGone();
    const resuming = bob2.core.resume();
    await bob2.untilStatus('reconnecting', 5000);
    await bob2.call('signOut');
    expect(await resuming).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
    expect(await bob2.call<SessionView>('session')).toMatchObject({ status: 'offline', me: null });
    expect(existsSync(join(bobDir, 'room.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(bobDir, 'session.json'), 'utf8'))).toEqual({});
  });

  it('stops trying when the user joins herself, but not for a join with bad arguments', async () => {
    const { bobDir, bob: bob2 } = await hostGone();
    const resuming = bob2.core.resume();
    await bob2.untilStatus('reconnecting', 5000);
    expect(await bob2.core.dispatch('join', [{ host: '127.0.0.1' }])).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await bob2.call<SessionView>('session')).toMatchObject({ status: 'reconnecting', resumed: true });

    // The host is still down: her own join fails, and the app waits no longer.
    const { port } = JSON.parse(readFileSync(join(bobDir, 'room.json'), 'utf8')) as { port: number };
    const joined = await bob2.core.dispatch('join', [{ host: '127.0.0.1', port, name: 'bob', password: '' }]);
    expect(joined).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
    expect(await resuming).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
    const view = await bob2.call<SessionView>('session');
    expect(view).toMatchObject({ status: 'offline', me: null });
    expect(view.resumed).toBeUndefined();
  });

  it('stops trying when the user leaves, and tries again at the next start', async () => {
    const { aliceDir, bobDir, bob: bob2 } = await hostGone();
    const resuming = bob2.core.resume();
    await bob2.untilStatus('reconnecting', 5000);
    await bob2.call('leave');
    expect(await resuming).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
    expect(await bob2.call<SessionView>('session')).toMatchObject({ status: 'offline', me: null });
    await bob2.core.shutdown();

    await startApp(aliceDir).core.resume();
    expect(await startApp(bobDir).core.resume()).toMatchObject({ ok: true, value: { status: 'online', me: 'bob' } });
  });
});
