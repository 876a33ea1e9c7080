import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { login, nextEvent } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { runHostCommand } from './host-commands.js';

const room = useRoom({ start: { access: { mode: 'approval' } } });

const run = (line: string) => runHostCommand(room.host.server, line);

describe('host commands', () => {
  it('approve a waiting account, list users, mute, kick, ban and unban, each logged', async () => {
    await expect(login(room.host, 'bob')).rejects.toMatchObject({ code: ErrorCode.PENDING_APPROVAL });
    expect(await run('/pending')).toEqual([expect.stringMatching(/^bob {2}since /)]);
    expect(await run('/approve bob')).toEqual(['approved bob']);
    const bob = await room.user('bob');
    expect(await run('/users')).toEqual([expect.stringMatching(/^bob {2}127\.0\.0\.1:\d+ {2}lanchat-client\/0\.1\.0$/)]);

    expect(await run('/mute bob 10')).toEqual(['muted bob for 10 min']);
    expect((await run('/users'))[0]).toMatch(/muted$/);
    await expect(bob.send({ kind: 'room' }, 'hi')).rejects.toMatchObject({ code: ErrorCode.MUTED });
    expect(await run('/unmute bob')).toEqual(['unmuted bob']);

    const kicked = nextEvent(bob, 'fatal');
    expect(await run('/kick bob')).toEqual(['kicked bob (1 connections)']);
    expect((await kicked)[0].code).toBe(ErrorCode.KICKED);

    expect(await run('/ban bob')).toEqual(['banned bob']);
    expect(await run('/ban 10.1.2.3')).toEqual(['banned 10.1.2.3']);
    expect(await run('/bans')).toEqual(['address 10.1.2.3', 'name bob']);
    await expect(login(room.host, 'bob')).rejects.toMatchObject({ code: ErrorCode.BANNED });
    expect(await run('/unban bob')).toEqual(['unbanned bob']);
    expect(await run('/unban bob')).toEqual(['bob was not banned']);

    const actions = room.logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { event: string; action?: string })
      .filter((entry) => entry.event === 'admin')
      .map((entry) => entry.action);
    expect(actions).toEqual(['approve', 'mute', 'unmute', 'kick', 'ban', 'ban', 'unban', 'unban']);
  });

  it('resets a password and answers mistakes with an error line', async () => {
    expect(await run('/reset nobody')).toEqual(['error: no user named nobody']);
    await expect(login(room.host, 'carol')).rejects.toMatchObject({ code: ErrorCode.PENDING_APPROVAL });
    await run('/approve carol');
    const [line] = await run('/reset carol');
    const password = /^new password for carol: (\S+)$/.exec(line!)![1]!;
    await room.user('carol', password);
    expect(await run('/kick')).toEqual(['error: usage: /kick <name>']);
    expect(await run('/mute carol -1')).toEqual(['error: minutes must be a number above 0']);
    expect(await run('/frobnicate')).toEqual(['error: unknown command /frobnicate; /help lists them']);
    expect((await run('/help')).length).toBeGreaterThan(5);
    expect(await run('/approve carol')).toEqual(['error: carol is not waiting for approval']);
  });

  it('lists and purges accounts that never wrote', async () => {
    expect(await run('/silent')).toEqual(['no account that never wrote']);
    await expect(login(room.host, 'junk')).rejects.toMatchObject({ code: ErrorCode.PENDING_APPROVAL });
    expect(await run('/silent')).toEqual(['1 accounts never wrote:', expect.stringMatching(/^junk {2}since /)]);
    expect(await run('/silent 5')).toEqual(['no account that never wrote']);
    expect(await run('/purge x')).toEqual(['error: minutes must be a whole number, 0 or more']);
    expect(await run('/purge')).toEqual(['purged 1 accounts that never wrote']);
    expect(await run('/pending')).toEqual(['nobody is waiting']);
  });

  it("prints no control character from a client's hello or any name", async () => {
    const peer = await room.raw();
    await peer.request('hello', { protocol: PROTOCOL_VERSION, client: 'evil\u001b]52;c;cHduZWQ=\u0007\u001b[2J\u009b' });
    await peer.request('login', { name: 'eve', password: 'eve-secret' });
    await run('/approve eve');
    expect(await peer.request('login', { name: 'eve', password: 'eve-secret' })).toMatchObject({ ok: true });
    const [line] = await run('/users');
    expect(line).toMatch(/^eve {2}127\.0\.0\.1:\d+ {2}evil/);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
