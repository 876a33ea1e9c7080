/** The terminal client as an end-to-end encryption device, talking with the app through a real host. */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import { TEST_PASSWORD_COST, folderHolds, removeDir, tempDir, waitFor, unwrap } from '../testing/harness.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';
import { AppCore } from '../core/app.js';
import { runChat } from './chat-run.js';

const room = useRoom();

/** Every file of the host's folder and its log that holds the text. */
function hostHolding(text: string): string[] {
  const needle = Buffer.from(text);
  return [...readdirSync(room.dir, { recursive: true, encoding: 'utf8' }).map((name) => join(room.dir, name)), room.host.logFile]
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
}

/** The terminal client in-process, fed lines one at a time, with its pins (and device) outside the host's folder. */
function terminal(user: string, cleanups: (() => void | Promise<void>)[], port = room.port, home = tempDir('lanchat-terminal-')) {
  cleanups.push(() => removeDir(home));
  const lines: string[] = [];
  const queued: string[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  async function* input(): AsyncGenerator<string> {
    for (;;) {
      const line = queued.shift();
      if (line !== undefined) yield line;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const args = ['--server', `127.0.0.1:${port}`, '--user', user, '--password', `${user}-secret`];
  const exit = runChat(args, { env: {}, print: (line) => lines.push(line), lines: input, pinsFile: join(home, 'pins.json') });
  return {
    home,
    lines,
    exit,
    type(line: string): void {
      queued.push(line);
      wake?.();
    },
    end(): void {
      ended = true;
      wake?.();
    },
    async line(pattern: RegExp): Promise<RegExpExecArray> {
      let match: RegExpExecArray | null = null;
      await waitFor(() => lines.some((line) => (match = pattern.exec(line)) !== null), () => `${pattern} in:\n${lines.join('\n')}`);
      return match!;
    },
  };
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The app, an encryption device, with what it told its windows. */
function encryptingApp() {
  const profile = tempDir('lanchat-e2ee-cli-app-');
  const app = new AppCore({ profileDir: profile, passwordCost: TEST_PASSWORD_COST, endToEnd: true });
  cleanups.push(() => removeDir(profile));
  cleanups.push(() => app.shutdown());
  const events: AppEvent[] = [];
  app.onEvent((event) => events.push(event));
  return { app, events };
}

/** The terminal as `user`, once its encryption device runs; ended with the test. */
async function terminalAs(user: string, port?: number, home?: string) {
  const session = terminal(user, cleanups, port, home);
  cleanups.push(async () => {
    session.end();
    await session.exit;
  });
  await session.line(/direct messages and groups are end-to-end encrypted/);
  return session;
}

/** The room started, the app as bob and the terminal as alice, in a direct conversation both accepted. */
async function chatting() {
  await room.start();
  const { app, events } = encryptingApp();
  const alice = await terminalAs('alice');
  unwrap(await app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
  alice.type('@PM bob');
  await alice.line(/chat request sent to bob/);
  unwrap(await app.chatAnswer('alice', true));
  return { app, events, alice };
}

describe('the terminal client, end-to-end encrypted', () => {
  it('exchanges DMs (with a reaction) and group messages with the app; its search finds them; the host holds none of the text', async () => {
    const { app, events, alice } = await chatting();

    alice.type('bob~secret-from-the-terminal');
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'secret-from-the-terminal' && 'e2ee' in event.message));
    unwrap(await app.send({ kind: 'dm', user: 'alice' }, 'secret-from-the-app'));
    const [, id] = await alice.line(/^#(\d+) .*dm bob \(e2ee\) \| bob: secret-from-the-app$/);
    alice.type(`/react ${id} 🎉`);
    await waitFor(() => events.some((event) => event.type === 'event' && event.event.kind === 'reaction' && event.event.message.reactions?.[0]?.emoji === '🎉'));

    const group = unwrap(await app.groupCreate('plans', ['alice']));
    alice.type('/group_join plans');
    await alice.line(/group plans \(owner bob\): alice, bob|group plans \(owner bob\): bob, alice/);
    alice.type('/group_message plans~secret-group-from-the-terminal');
    await waitFor(
      () => events.some((event) => event.type === 'message' && event.message.text === 'secret-group-from-the-terminal' && event.message.groupId === group.id),
      10_000,
      `the group message at the app; the terminal printed:\n${alice.lines.join('\n')}`,
    );

    alice.type('/search_message from-the');
    await alice.line(/^\d+\+? results? for "from-the"$/);
    await alice.line(/^ {2}#\d+ .*bob: secret-from-the-app$/);

    // Plain text from the terminal goes to its private chat partner now (encrypted too): the room's check comes from the app.
    unwrap(await app.send({ kind: 'room' }, 'room-text-the-host-reads'));
    await waitFor(() => hostHolding('room-text-the-host-reads').length > 0, 'the room text in the host files');
    for (const text of ['secret-from-the-terminal', 'secret-from-the-app', 'secret-group-from-the-terminal', '🎉']) expect(hostHolding(text), text).toEqual([]);
  });

  it('sends a file to the app and gets one from it inside the encryption: exact bytes and names, none of it on the host', async () => {
    const { app, events, alice } = await chatting();
    const folder = tempDir('lanchat-e2ee-cli-files-');
    cleanups.push(() => removeDir(folder));

    const fromTerminal = Buffer.concat([Buffer.from('terminal-file-content '), randomBytes(50_000)]);
    writeFileSync(join(folder, 'terminal-secret-name.bin'), fromTerminal);
    alice.type(`/send bob ${join(folder, 'terminal-secret-name.bin')} terminal-file-caption`);
    await alice.line(/sent terminal-secret-name\.bin .*end-to-end encrypted/);
    let file: { id: string; name: string } | undefined;
    await waitFor(() => {
      for (const event of events) if (event.type === 'message' && event.message.attachments?.[0]?.name === 'terminal-secret-name.bin') file = event.message.attachments[0];
      return file !== undefined;
    }, 20_000, 'the file at the app');
    expect(readFileSync(unwrap(await app.downloadFile(file!.id, file!.name)).path).equals(fromTerminal)).toBe(true);

    const fromApp = Buffer.concat([Buffer.from('app-file-content '), randomBytes(50_000)]);
    unwrap(await app.sendFiles({ kind: 'dm', user: 'alice' }, [{ name: 'app-secret-name.bin', data: fromApp.toString('base64') }], ''));
    const [, id] = await alice.line(/^#(\d+) .*dm bob \(e2ee\) \| bob: .*\[files: app-secret-name\.bin/);
    alice.type(`/get ${id} ${join(folder, 'got.bin')}`);
    await alice.line(/saved app-secret-name\.bin/);
    expect(readFileSync(join(folder, 'got.bin')).equals(fromApp)).toBe(true);

    for (const text of ['terminal-secret-name', 'terminal-file-caption', 'terminal-file-content', 'app-secret-name', 'app-file-content']) expect(hostHolding(text), text).toEqual([]);
    expect(hostHolding(fromTerminal.subarray(1000, 1064).toString('latin1'))).toEqual([]);
  });

  it("keeps DMs to someone whose client cannot receive them yet, sends them in order once it can, drops them on /cancel", async () => {
    await room.start();
    const bobWithoutDevice = await room.user('bob');
    const alice = await terminalAs('alice');
    alice.type('@PM bob');
    await alice.line(/chat request sent to bob/);
    await bobWithoutDevice.request('chatAnswer', { user: 'alice', accept: true });
    await alice.line(/bob accepted your chat request/);

    alice.type('bob~dropped-before-it-went');
    await alice.line(/^\*\*\* bob's client cannot receive end-to-end encrypted messages yet: this goes once it can/);
    alice.type('/cancel bob');
    await alice.line(/^\*\*\* dropped 1 waiting for bob: dropped-before-it-went$/);
    // Two at once: the second is written before the first is known to wait, and is said to wait behind it.
    alice.type('bob~waits-first');
    alice.type('bob~waits-second');
    await alice.line(/^\*\*\* 1 more to bob waits behind it$/);
    alice.type('bob~waits-third');
    await alice.line(/^\*\*\* waits behind your earlier message to bob$/);

    const { app, events } = encryptingApp();
    unwrap(await app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    await alice.line(/^\*\*\* went to bob: waits-third$/);
    for (const text of ['waits-first', 'waits-second']) expect(alice.lines).toContain(`*** went to bob: ${text}`);
    const shown = () => events.flatMap((event) => (event.type === 'message' && 'e2ee' in event.message ? [event.message.text] : []));
    await waitFor(() => shown().includes('waits-third'), 'all three at bob\'s app');
    expect(shown()).toEqual(['waits-first', 'waits-second', 'waits-third']);

    // What waits when the terminal quits is kept on the device, named, and goes from its next run.
    const carolWithoutDevice = await room.user('carol');
    alice.type('@PM carol');
    await alice.line(/chat request sent to carol/);
    await carolWithoutDevice.request('chatAnswer', { user: 'alice', accept: true });
    await alice.line(/carol accepted your chat request/);
    alice.type('carol~kept-for-the-next-run');
    await alice.line(/^\*\*\* carol's client cannot receive/);
    alice.end();
    expect(await alice.exit).toBe(0);
    expect(alice.lines).toContain('*** not sent yet, kept on this device for your next connection: kept-for-the-next-run (to carol)');
    // Kept encrypted: no file of the terminal's, nor of the host's, holds its text.
    expect(folderHolds(alice.home, 'kept-for-the-next-run')).toBe(false);
    expect(hostHolding('kept-for-the-next-run')).toEqual([]);

    const again = await terminalAs('alice', room.port, alice.home);
    await again.line(/^\*\*\* not sent in your last session, going now: kept-for-the-next-run \(to carol\)$/);
    await again.line(/^\*\*\* carol's client cannot receive end-to-end encrypted messages yet/);
    const carol = encryptingApp();
    unwrap(await carol.app.join({ host: '127.0.0.1', port: room.port, name: 'carol', password: 'carol-secret' }));
    await again.line(/^\*\*\* went to carol: kept-for-the-next-run$/);
    await waitFor(() => carol.events.some((event) => event.type === 'message' && event.message.text === 'kept-for-the-next-run'), 'the DM at carol\'s app');
    expect(hostHolding('kept-for-the-next-run')).toEqual([]);
  });

  it('keeps a group message while no other member can receive it yet, saying whose client, drops it on /group_cancel, and sends the next once one can', async () => {
    await room.start();
    const bobWithoutDevice = await room.user('bob');
    const alice = await terminalAs('alice');
    alice.type('/group_name_add plans');
    await alice.line(/^\*\*\* group plans created$/);
    alice.type('/group_person_add plans bob');
    await waitFor(async () => (await bobWithoutDevice.request('groupInvitations')).invitations.length === 1, 'bob invited');
    const [invitation] = (await bobWithoutDevice.request('groupInvitations')).invitations;
    await bobWithoutDevice.request('groupAnswer', { groupId: invitation!.groupId, accept: true });
    await alice.line(/^\*\*\* group plans \(owner alice\): alice, bob$/);
    alice.type('/group_message plans~dropped-before-it-went');
    await alice.line(/^\*\*\* the clients of bob cannot receive end-to-end encrypted messages yet: this goes to group plans once one can \(\/group_cancel plans drops it\)$/);
    alice.type('/group_cancel plans');
    await alice.line(/^\*\*\* dropped 1 waiting for group plans: dropped-before-it-went$/);
    alice.type('/group_cancel plans');
    await alice.line(/^\*\*\* nothing waits to go to group plans$/);
    alice.type('/group_message plans~waits-for-a-member');
    const waitingLines = () => alice.lines.filter((line) => line.startsWith('*** the clients of bob cannot receive end-to-end encrypted messages yet')).length;
    await waitFor(() => waitingLines() === 2, () => `the second message said to wait:\n${alice.lines.join('\n')}`);

    const { app, events } = encryptingApp();
    unwrap(await app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    await alice.line(/^\*\*\* went to group plans: waits-for-a-member$/);
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'waits-for-a-member'), 'the message at bob\'s app');
    expect(events.some((event) => event.type === 'message' && event.message.text === 'dropped-before-it-went')).toBe(false);
    expect(alice.lines).not.toContain('*** went to group plans: dropped-before-it-went');
  });

  it("says once per group, not at each message, that a member's client cannot receive what is written there", async () => {
    await room.start();
    const bobWithoutDevice = await room.user('bob');
    const carolWithoutDevice = await room.user('carol');
    const alice = await terminalAs('alice');
    alice.type('/group_name_add plans');
    await alice.line(/^\*\*\* group plans created$/);
    alice.type('/group_person_add plans bob');
    alice.type('/group_person_add plans carol');
    for (const invited of [bobWithoutDevice, carolWithoutDevice]) {
      await waitFor(async () => (await invited.request('groupInvitations')).invitations.length === 1, 'invited');
      const [invitation] = (await invited.request('groupInvitations')).invitations;
      await invited.request('groupAnswer', { groupId: invitation!.groupId, accept: true });
    }
    await alice.line(/^\*\*\* group plans \(owner alice\): alice, bob, carol$/);
    const { app, events } = encryptingApp();
    unwrap(await app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));

    for (const text of ['first-to-plans', 'second-to-plans', 'third-to-plans']) alice.type(`/group_message plans~${text}`);
    const shown = () => events.flatMap((event) => (event.type === 'message' ? [event.message.text] : []));
    await waitFor(() => shown().includes('third-to-plans'), () => `all three at bob's app, which has: ${shown().join(', ')}`);
    const said = alice.lines.filter((line) => line.startsWith("*** carol's client cannot receive"));
    expect(said).toEqual(["*** carol's client cannot receive end-to-end encrypted messages (an older version?): what you write to group plans does not reach it, and never goes in plain"]);
    expect(alice.lines.filter((line) => line.startsWith("*** bob's client cannot receive end-to-end encrypted messages (an older"))).toEqual([]);
  });

  it("says when the other user's devices changed: their second app, added to the DM", async () => {
    const { events, alice } = await chatting();
    alice.type('bob~before-the-second-app');
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'before-the-second-app'), 'the first DM at bob\'s app');
    const second = encryptingApp();
    unwrap(await second.app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    // Its first upload tells the terminal's device, which adds it to the DM soon, without a message.
    await alice.line(/^\*\*\* bob's devices changed: an app of theirs was added or removed; if they did not say so, compare safety numbers: \/safety bob$/);
    alice.type('bob~after-the-second-app');
    await waitFor(() => second.events.some((event) => event.type === 'message' && event.message.text === 'after-the-second-app'), () => `the DM at bob's second app; the terminal printed:\n${alice.lines.join('\n')}`);
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'after-the-second-app'), 'the DM at bob\'s first app');
  });

  it('prints the safety number the other user\'s app shows, and marks them verified', async () => {
    const { app, events, alice } = await chatting();
    alice.type('bob~before-comparing');
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'before-comparing'), 'the DM at bob\'s app');
    const theirs = unwrap(await app.safetyNumber('alice'));
    expect(theirs.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);

    const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    alice.type('/safety bob');
    await alice.line(exactly(`*** safety number with bob: ${theirs.safetyNumber}`));
    await alice.line(exactly('*** compare it with bob, in person or by phone; if it matches on both sides: /verify bob'));
    alice.type('/verify bob');
    await alice.line(exactly('*** bob is verified on this install: if their devices change, you are told'));
    alice.type('/safety bob');
    await alice.line(exactly(`*** safety number with bob (verified): ${theirs.safetyNumber}`));
    alice.type('/safety carol');
    await alice.line(/^! No encrypted conversation with carol yet/);
  });

  it('sends a waiting DM after a reconnect, when the device appeared while its link was down', async () => {
    await room.start();
    const bobWithoutDevice = await room.user('bob');
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    const alice = await terminalAs('alice', proxy.port);
    alice.type('@PM bob');
    await alice.line(/chat request sent to bob/);
    await bobWithoutDevice.request('chatAnswer', { user: 'alice', accept: true });
    await alice.line(/bob accepted your chat request/);
    alice.type('bob~waits-through-a-reconnect');
    await alice.line(/^\*\*\* bob's client cannot receive end-to-end encrypted messages yet/);

    // Alice's link is down while bob's app becomes a device: the push about it never reaches her.
    proxy.close();
    await alice.line(/connection lost/);
    const { app, events } = encryptingApp();
    unwrap(await app.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    await proxy.listen();
    await alice.line(/^\*\*\* went to bob: waits-through-a-reconnect$/);
    await waitFor(() => events.some((event) => event.type === 'message' && event.message.text === 'waits-through-a-reconnect'), 'the DM at bob\'s app');

    // One written while the link is down is kept, and goes once it is back.
    proxy.close();
    await waitFor(() => alice.lines.filter((line) => line.includes('connection lost')).length === 2, 'the link down again');
    alice.type('bob~written-while-down');
    await alice.line(/^\*\*\* not connected: this goes once you are back$/);
    await proxy.listen();
    await alice.line(/^\*\*\* went to bob: written-while-down$/);
    const atBob = () => events.filter((event) => event.type === 'message' && event.message.text === 'written-while-down');
    await waitFor(() => atBob().length > 0, 'the DM at bob\'s app');
    expect(atBob()).toHaveLength(1);
  });
});
