import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { nextEvent, waitFor } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';
import { nameSkeleton } from '../../../src-shared/text.js';
import { openStore } from '../../store/store.js';

const room = useRoom();

describe('host admin', () => {
  it('lists connected users with address and client version, and kicks one who does not come back by itself', async () => {
    await room.start();
    const bob = await room.user('bob');
    const hostUser = await room.user('host');
    room.host.server.admin.protect('host');
    const seen = nextEvent(bob, 'message', (m) => m.text === 'seen before the kick');
    const last = await hostUser.send({ kind: 'room' }, 'seen before the kick');
    await seen;
    const connected = room.host.server.admin.connections();
    expect(connected.map((c) => c.name)).toEqual(['bob', 'host']);
    expect(connected[0]).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), client: 'lanchat-client/0.1.0', muted: false });

    const fatal = nextEvent(bob, 'fatal');
    expect(await room.host.server.admin.kick('bob')).toBe(1);
    const [error] = await fatal;
    expect(error.code).toBe(ErrorCode.KICKED);
    expect(bob.state).toBe('closed');
    // Back after the kick, bob is not sent again what he had before it.
    expect((await room.user('bob')).session?.login.deliveredUpTo).toBe(last.id);
    await expect(room.host.server.admin.kick('host')).rejects.toThrow(/host's own account/);
    await expect(room.host.server.admin.ban({ name: 'HOST' })).rejects.toThrow(/host's own account/);
    await expect(room.host.server.admin.ban({ address: '127.0.0.1' })).rejects.toThrow(/host's own account/);
  });

  it('bans a name: the user is dropped, refused at login, and still refused after a restart until unbanned', async () => {
    await room.start();
    const bob = await room.user('bob');
    const fatal = nextEvent(bob, 'fatal');
    await room.host.server.admin.ban({ name: 'Bob' });
    expect((await fatal)[0].code).toBe(ErrorCode.BANNED);
    expect(await room.loginError('bob')).toBe(ErrorCode.BANNED);
    await room.restart();
    expect(await room.loginError('bob')).toBe(ErrorCode.BANNED);
    expect(await room.host.server.admin.bans()).toMatchObject([{ kind: 'name', value: 'bob' }]);
    expect(await room.host.server.admin.unban({ name: 'bob' })).toBe(true);
    expect((await room.user('bob')).session?.login.name).toBe('bob');
  });

  it('bans an address: new connections from it get a bye, also after a restart', async () => {
    await room.start();
    await room.host.server.admin.ban({ address: '::ffff:127.0.0.1' });
    await room.restart();
    const peer = await room.raw();
    const bye = await peer.waitFrame((frame) => frame.type === 'bye');
    expect(bye).toMatchObject({ error: { code: ErrorCode.BANNED } });
    await peer.waitClosed();
    expect(await room.host.server.admin.unban({ address: '127.0.0.1:4242' })).toBe(true);
    await expect(room.host.server.admin.ban({ address: 'not-an-ip' })).rejects.toThrow(/not an IP address/);
  });

  it('mutes: sends are refused with MUTED until unmuted; every action is in the server log', async () => {
    await room.start();
    const bob = await room.user('bob');
    await room.host.server.admin.mute('bob', 5);
    expect(room.host.server.admin.connections()[0]?.muted).toBe(true);
    await expect(bob.send({ kind: 'room' }, 'hello?')).rejects.toMatchObject({ code: ErrorCode.MUTED });
    await room.host.server.admin.unmute('bob');
    await expect(bob.send({ kind: 'room' }, 'hello!')).resolves.toMatchObject({ text: 'hello!' });
    await room.host.server.admin.kick('bob');
    await waitFor(() => room.logEvents().filter((entry) => entry.event === 'admin').length === 3);
    expect(room.logEvents().filter((entry) => entry.event === 'admin').map((entry) => entry.action)).toEqual(['mute', 'unmute', 'kick']);
  });

  it('keeps mutes over a restart: until lifted, or until their end, which the user is then told of', async () => {
    await room.start();
    await room.user('bob');
    await room.user('carol');
    await room.user('dave');
    await room.host.server.admin.mute('bob');
    await room.host.server.admin.mute('carol', 0.05);
    await room.host.server.admin.mute('dave');
    await room.host.server.admin.unmute('dave');
    await room.stop();
    // Settings under the mutes' prefix that are not mutes (a hand-edited file) mute nobody and stop nothing.
    const store = openStore(join(room.dir, 'chat.sqlite'));
    try {
      store.setRoomSetting('access.mute.x', 'forever');
      store.setRoomSetting('access.mute.999', 'soon');
    } finally {
      await store.close();
    }
    await room.start();
    const isMute = (frame: { type: string }) => frame.type === 'mute';
    const bob = await room.raw();
    await bob.login('bob');
    expect(await bob.waitFrame(isMute)).toEqual({ type: 'mute', muted: true });
    expect(await bob.request('send', { to: { kind: 'room' }, text: 'still here', clientMsgId: 'b-1' })).toMatchObject({ error: { code: ErrorCode.MUTED } });
    const carol = await room.raw();
    await carol.login('carol');
    expect(await carol.waitFrame(isMute)).toMatchObject({ type: 'mute', muted: true, until: expect.any(Number) });
    // Three seconds after the mute: its end, after the restart too, is pushed to the user.
    await carol.waitFrame((frame) => isMute(frame) && !(frame as { muted: boolean }).muted);
    expect(await carol.request('send', { to: { kind: 'room' }, text: 'free', clientMsgId: 'c-1' })).toMatchObject({ ok: true });
    const dave = await room.raw();
    await dave.login('dave');
    expect(await dave.request('send', { to: { kind: 'room' }, text: 'never muted now', clientMsgId: 'd-1' })).toMatchObject({ ok: true });
    expect(dave.frames.filter(isMute)).toEqual([]);
    expect(room.host.server.admin.connections().filter((user) => user.muted).map((user) => user.name)).toEqual(['bob']);
  });

  it('tells a muted user at once, again at each login while it lasts, and when it is lifted or ends', async () => {
    await room.start();
    const bob = await room.raw();
    await bob.login('bob');
    const isMute = (frame: { type: string }) => frame.type === 'mute';

    const before = Date.now();
    await room.host.server.admin.mute('bob', 5);
    const muted = await bob.waitFrame(isMute);
    expect(muted).toMatchObject({ type: 'mute', muted: true, until: expect.any(Number) });
    expect((muted as { until: number }).until).toBeGreaterThanOrEqual(before + 5 * 60_000);

    // A second connection learns it right after its login answer.
    const phone = await room.raw();
    await phone.login('bob');
    const loginAnswer = phone.frames.findIndex((frame) => frame.type === 'res' && frame.id === 2);
    expect(phone.frames[loginAnswer + 1] ?? (await phone.waitFrame(isMute))).toMatchObject({ type: 'mute', muted: true });

    await room.host.server.admin.unmute('bob');
    await bob.waitFrame((frame) => isMute(frame) && frame !== muted);
    expect(bob.frames.filter(isMute).at(-1)).toEqual({ type: 'mute', muted: false });

    // Until lifted: no end time. A timed mute ends by itself, and the user is told.
    await room.host.server.admin.mute('bob');
    await waitFor(() => bob.frames.filter(isMute).length === 3);
    expect(bob.frames.filter(isMute).at(-1)).toEqual({ type: 'mute', muted: true });
    await room.host.server.admin.mute('bob', 0.005);
    await waitFor(() => bob.frames.filter(isMute).length === 5);
    expect(bob.frames.filter(isMute).slice(3)).toEqual([
      { type: 'mute', muted: true, until: expect.any(Number) },
      { type: 'mute', muted: false },
    ]);
    const sent = await bob.request('send', { to: { kind: 'room' }, text: 'free again', clientMsgId: 'c-1' });
    expect(sent).toMatchObject({ ok: true });

    // Nobody else hears of it, and a user who is not muted gets no mute push at login.
    const carol = await room.raw();
    await carol.login('carol');
    await room.host.server.admin.mute('bob');
    await waitFor(() => bob.frames.filter(isMute).length === 6);
    expect(carol.frames.filter(isMute)).toEqual([]);
  });
});

describe('accounts that never wrote (issue 10 item 2)', () => {
  /** Accounts made straight in the database, as a registration storm leaves them. */
  function junkAccounts(count: number, createdAt: number): void {
    const store = openStore(join(room.dir, 'chat.sqlite'));
    try {
      for (let i = 0; i < count; i++) {
        const name = `junk${i}`;
        store.createUser({ name, nameKey: name, skeleton: nameSkeleton(name), passwordHash: 'x', createdAt });
      }
    } finally {
      store.close();
    }
  }

  it('are listed and purged in batches, sparing writers, group members, the online and the host', async () => {
    junkAccounts(1000, Date.now() - 60 * 60_000);
    await room.start();
    const writer = await room.user('writer');
    await writer.send({ kind: 'room' }, 'I wrote');
    const owner = await room.user('owner');
    const group = await owner.request('groupCreate', { name: 'Team' });
    const member = await room.user('member');
    await owner.request('groupAddMember', { groupId: group.group.id, user: 'member' });
    await member.request('groupAnswer', { groupId: group.group.id, accept: true });
    await room.user('host');
    room.host.server.admin.protect('host');
    await room.user('lurker');
    room.closeClients();
    await room.gone('lurker');
    const online = await room.user('online');
    const admin = room.host.server.admin;

    const silent = await admin.silentAccounts();
    expect(silent.count).toBe(1001);
    expect(silent.accounts).toHaveLength(100);
    expect(silent.accounts.map((a) => a.name).slice(0, 2)).toEqual(['junk0', 'junk1']);
    expect(silent.accounts.map((a) => a.name)).not.toContain('lurker');
    // Only the junk is older than half an hour.
    expect((await admin.silentAccounts(30)).count).toBe(1000);

    let turns = 0;
    let purging = true;
    const countTurns = (): void => {
      turns += 1;
      if (purging) setImmediate(countTurns);
    };
    setImmediate(countTurns);
    const purged = await admin.purgeSilent(30);
    purging = false;
    expect(purged).toBe(1000);
    // The event loop ran between the batches: other clients were served meanwhile.
    expect(turns).toBeGreaterThanOrEqual(5);

    const { users } = await online.request('users');
    expect(users.map((u) => u.name)).toEqual(['host', 'lurker', 'member', 'online', 'owner', 'writer']);
    expect((await admin.silentAccounts()).accounts.map((a) => a.name)).toEqual(['lurker']);
    expect(room.logEvents().filter((e) => e.event === 'admin').at(-1)).toMatchObject({ action: 'purge silent accounts', purged: 1000, olderThanMinutes: 30 });
    // A purged name is free again.
    expect(await room.loginError('junk7', 'new owner')).toBe('no error');
  });
});
