import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { type ServerFrame } from '../../src-shared/protocol/pushes.js';
import { type ChatClient } from '../client/client.js';
import type { HostOptions } from '../core/host.js';
import { type RawPeer, nextEvent } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import type { ScryptHold } from './password.js';

const room = useRoom();

async function restart(options: Partial<HostOptions> = {}): Promise<void> {
  room.closeClients();
  await room.restart(options);
}

function user(name: string, password = `${name}-secret`, passphrase?: string): Promise<ChatClient> {
  return room.user(name, password, passphrase !== undefined ? { passphrase } : {});
}

function loginError(name: string, password = `${name}-secret`, passphrase?: string): Promise<string> {
  return room.loginError(name, password, passphrase !== undefined ? { passphrase } : {});
}

async function raw(localAddress?: string): Promise<RawPeer> {
  const peer = await room.raw(localAddress);
  await peer.hello();
  return peer;
}

/**
 * Holds the next password check the host begins (ServerOptions.holdScrypt) at the point where it has read
 * the account and waits for scrypt: the test changes the account meanwhile, then lets the check go on.
 */
function holdNextCheck(): { hold: ScryptHold; arm<T>(start: () => T): T; reached: Promise<void>; release(): void } {
  let armed = false;
  let arrive = (): void => undefined;
  let release = (): void => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    hold: async () => {
      if (!armed) return;
      armed = false;
      arrive();
      await released;
    },
    arm: (start) => {
      armed = true;
      return start();
    },
    reached,
    release,
  };
}

function errorOf(frame: ServerFrame): { code: string; retryAfterMs?: number } {
  if (frame.type !== 'res' || frame.ok) throw new Error(`expected an error response, got ${JSON.stringify(frame)}`);
  return frame.error;
}

describe('access modes', () => {
  it('open: anyone registers', async () => {
    await room.start({ access: { mode: 'open' } });
    expect((await user('alice')).session?.login.registered).toBe(true);
  });

  it('passphrase: registering needs the passphrase; existing accounts log in without it; the mode survives a restart', async () => {
    await room.start({ access: { mode: 'open' } });
    (await user('old')).close();
    await restart({ access: { mode: 'passphrase', passphrase: 'open sesame' } });

    expect(await loginError('alice')).toBe(ErrorCode.PASSPHRASE_REQUIRED);
    expect(await loginError('alice', 'alice-secret', 'wrong')).toBe(ErrorCode.PASSPHRASE_REQUIRED);
    expect((await user('alice', 'alice-secret', 'open sesame')).session?.login.registered).toBe(true);
    expect((await user('old')).session?.login.registered).toBe(false);

    await restart();
    expect(await loginError('bob')).toBe(ErrorCode.PASSPHRASE_REQUIRED);
    expect((await user('bob', 'bob-secret', 'open sesame')).session?.login.registered).toBe(true);
  });

  it('approval: a new account waits until the host approves it; a rejected one is gone', async () => {
    await room.start({ access: { mode: 'open' } });
    const old = await user('old');
    await restart({ access: { mode: 'approval' } });

    expect(await loginError('bob')).toBe(ErrorCode.PENDING_APPROVAL);
    expect(await loginError('bob')).toBe(ErrorCode.PENDING_APPROVAL);
    expect(await loginError('bob', 'not-bobs')).toBe(ErrorCode.WRONG_PASSWORD);
    expect(await loginError('eve')).toBe(ErrorCode.PENDING_APPROVAL);
    expect((await room.host.server.admin.pending()).map((p) => p.name)).toEqual(['bob', 'eve']);

    const stillOld = await user('old');
    expect((await stillOld.request('users')).users.map((u) => u.name)).toEqual(['old']);
    expect(old.state).toBe('closed');

    await room.host.server.admin.approve('bob');
    await room.host.server.admin.reject('eve');
    expect(await room.host.server.admin.pending()).toEqual([]);
    expect((await user('bob')).session?.login.registered).toBe(false);
    // A waiting app retries with create: false, so a rejection is an answer, not a new request.
    const retry = (name: string) => room.loginError(name, `${name}-secret`, { create: false });
    expect(await retry('eve')).toBe(ErrorCode.UNKNOWN_USER);
    expect(await room.host.server.admin.pending()).toEqual([]);
    expect(await retry('bob')).toBe('no error');
    expect(await loginError('eve')).toBe(ErrorCode.PENDING_APPROVAL);
    expect(await retry('eve')).toBe(ErrorCode.PENDING_APPROVAL);
    await expect(room.host.server.admin.approve('old')).rejects.toThrow(/not waiting/);
  });

  it('approval: refuses new accounts while too many wait', async () => {
    await room.start({ access: { mode: 'approval' }, limits: { maxPendingAccounts: 1 } });
    expect(await loginError('bob')).toBe(ErrorCode.PENDING_APPROVAL);
    expect(await loginError('eve')).toBe(ErrorCode.LIMIT_REACHED);
    await room.host.server.admin.reject('bob');
    expect(await loginError('eve')).toBe(ErrorCode.PENDING_APPROVAL);
  });
});

describe('registration rate', () => {
  it('limits new accounts per address and per room, with retryAfterMs; existing accounts log in regardless', async () => {
    await room.start({ limits: { addressRegistrationsPerMinute: 2, registrationsPerMinute: 3 } });
    for (const name of ['one', 'two']) expect(await (await raw()).request('login', { name, password: 'pw-secret' })).toMatchObject({ ok: true });
    const refused = errorOf(await (await raw()).request('login', { name: 'three', password: 'pw-secret' }));
    expect(refused.code).toBe(ErrorCode.RATE_LIMITED);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(await (await raw('127.0.0.2')).request('login', { name: 'four', password: 'pw-secret' })).toMatchObject({ ok: true });
    expect(errorOf(await (await raw('127.0.0.3')).request('login', { name: 'five', password: 'pw-secret' })).code).toBe(ErrorCode.RATE_LIMITED);
    expect(await (await raw()).request('login', { name: 'one', password: 'pw-secret' })).toMatchObject({ ok: true });
    expect(room.logEvents().filter((e) => e.event === 'registration refused').map((e) => e.reason)).toEqual(['address rate', 'room rate']);
  });

  it('counts only the accounts it created: refused registrations use up nothing', async () => {
    await room.start({ access: { mode: 'passphrase', passphrase: 'open sesame' }, limits: { addressRegistrationsPerMinute: 2, registrationsPerMinute: 30 } });
    const register = async (name: string, passphrase: string) => (await raw()).request('login', { name, password: 'pw-secret', passphrase });
    for (const name of ['one', 'two', 'three']) expect(errorOf(await register(name, 'guess')).code).toBe(ErrorCode.PASSPHRASE_REQUIRED);
    for (const name of ['one', 'two']) expect(await register(name, 'open sesame')).toMatchObject({ ok: true });
    expect(errorOf(await register('three', 'open sesame')).code).toBe(ErrorCode.RATE_LIMITED);
  });
});

describe('login throttling', () => {
  const throttle = { freeFailures: 5, baseDelayMs: 400, maxDelayMs: 400 };

  it('throttles wrong passphrases for the room as a whole, whatever address and name they come from', async () => {
    await room.start({ access: { mode: 'passphrase', passphrase: 'open sesame' }, throttle });
    for (let i = 0; i < 5; i++) {
      const guess = await (await raw(`127.0.0.${i + 2}`)).request('login', { name: `guesser${i}`, password: 'pw-secret', passphrase: 'guess' });
      expect(errorOf(guess).code).toBe(ErrorCode.PASSPHRASE_REQUIRED);
    }
    const next = errorOf(await (await raw('127.0.0.9')).request('login', { name: 'another', password: 'pw-secret', passphrase: 'guess' }));
    expect(next.code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
    expect(next.retryAfterMs).toBeGreaterThan(0);
  });

  it('never throttles a valid token: guesses from elsewhere do not lock the user out of an existing session', async () => {
    await room.start({ throttle: { ...throttle, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const alice = await user('alice');
    const token = alice.sessionToken!;
    const guesser = await raw('127.0.0.2');
    for (let i = 0; i < 6; i++) await guesser.request('login', { name: 'alice', password: 'guess' });
    expect(errorOf(await guesser.request('login', { name: 'alice', password: 'alice-secret' })).code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
    const resumed = await (await raw()).request('login', { name: 'alice', token });
    expect(resumed).toMatchObject({ ok: true, result: { name: 'alice', token } });
  });

  it('after 5 failures for a name refuses even the right password at once, then accepts it after the delay', async () => {
    await room.start({ throttle });
    (await user('alice')).close();
    const peer = await raw();
    for (let i = 0; i < 5; i++) {
      expect(errorOf(await peer.request('login', { name: 'alice', password: 'guess' })).code).toBe(ErrorCode.WRONG_PASSWORD);
    }
    const refused = errorOf(await peer.request('login', { name: 'alice', password: 'alice-secret' }));
    expect(refused.code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(400);
    expect(room.logEvents().some((entry) => entry.event === 'login throttled')).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs! + 20));
    const accepted = await peer.request('login', { name: 'alice', password: 'alice-secret' });
    expect(accepted).toMatchObject({ ok: true, result: { name: 'alice' } });
  });

  it('lets no more than 5 guesses through when they arrive in parallel on many connections', async () => {
    await room.start({ throttle: { ...throttle, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    (await user('alice')).close();
    const attackers = await Promise.all(Array.from({ length: 8 }, () => raw()));
    const answers = await Promise.all(attackers.map((peer, i) => peer.request('login', { name: 'alice', password: `guess-${i}` })));
    const codes = answers.map((answer) => errorOf(answer).code);
    expect(codes.filter((code) => code === ErrorCode.WRONG_PASSWORD).length).toBeLessThanOrEqual(5);
    expect(codes.filter((code) => code === ErrorCode.TOO_MANY_ATTEMPTS).length).toBeGreaterThanOrEqual(3);
  });

  it('lets many people behind one address log in at the same moment', async () => {
    await room.start({ throttle: { ...throttle, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const names = Array.from({ length: 12 }, (_, i) => `member${i}`);
    for (const name of names) (await user(name, 'secret')).close();
    const peers = await Promise.all(names.map(() => raw()));
    const answers = await Promise.all(peers.map((peer, i) => peer.request('login', { name: names[i]!, password: 'secret' })));
    expect(answers).toEqual(names.map(() => expect.objectContaining({ type: 'res', ok: true })));
  });

  it('wrong guesses from elsewhere neither refuse nor hold up the right password from an address the account logged in from (issue 33, item 7)', async () => {
    await room.start({ throttle: { ...throttle, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    // alice's own address is 127.0.0.1: she registered there.
    (await user('alice')).close();
    const guesser = await raw('127.0.0.2');
    for (let i = 0; i < 5; i++) expect(errorOf(await guesser.request('login', { name: 'alice', password: 'guess' })).code).toBe(ErrorCode.WRONG_PASSWORD);
    expect(errorOf(await guesser.request('login', { name: 'alice', password: 'alice-secret' })).code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
    expect(errorOf(await (await raw('127.0.0.3')).request('login', { name: 'alice', password: 'guess' })).code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
    expect(await (await raw()).request('login', { name: 'alice', password: 'alice-secret' })).toMatchObject({ ok: true, result: { name: 'alice' } });
    // Guesses under way from other addresses at the same moment hold her up neither.
    const guessers = await Promise.all(['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'].map((address) => raw(address)));
    const [own, ...guesses] = await Promise.all([
      (async () => (await raw()).request('login', { name: 'alice', password: 'alice-secret' }))(),
      ...guessers.map((peer) => peer.request('login', { name: 'alice', password: 'guess' })),
    ]);
    expect(own).toMatchObject({ ok: true, result: { name: 'alice' } });
    for (const guess of guesses) expect([ErrorCode.WRONG_PASSWORD, ErrorCode.TOO_MANY_ATTEMPTS]).toContain(errorOf(guess!).code);
    // Her own mistakes still count against her own address.
    const own5 = await raw();
    for (let i = 0; i < 5; i++) expect(errorOf(await own5.request('login', { name: 'alice', password: 'typo' })).code).toBe(ErrorCode.WRONG_PASSWORD);
    expect(errorOf(await own5.request('login', { name: 'alice', password: 'alice-secret' })).code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
  });

  it('counts failures per address across names', async () => {
    await room.start({ throttle: { ...throttle, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    (await user('bob')).close();
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) (await user(name)).close();
    const peer = await raw();
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) {
      expect(errorOf(await peer.request('login', { name, password: 'guess' })).code).toBe(ErrorCode.WRONG_PASSWORD);
    }
    expect(errorOf(await peer.request('login', { name: 'bob', password: 'bob-secret' })).code).toBe(ErrorCode.TOO_MANY_ATTEMPTS);
  });

  it('a success resets the name counter', async () => {
    await room.start({ throttle: { ...throttle, freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    (await user('carol')).close();
    // Each round from its own loopback address, so only the name's counter carries over.
    for (const address of ['127.0.0.2', '127.0.0.3']) {
      const peer = await raw(address);
      for (let i = 0; i < 2; i++) {
        expect(errorOf(await peer.request('login', { name: 'carol', password: 'guess' })).code).toBe(ErrorCode.WRONG_PASSWORD);
      }
      expect(await peer.request('login', { name: 'carol', password: 'carol-secret' })).toMatchObject({ ok: true });
      peer.destroy();
    }
  });
});

describe('limits', () => {
  it('refuses names, groups and members past the host limits with clear errors', async () => {
    await room.start({ limits: { maxNameLength: 5, maxGroupNameLength: 6, maxGroupsPerOwner: 1, maxGroupMembers: 2 } });
    expect(await loginError('abcdef')).toBe(ErrorCode.NAME_INVALID);
    const owner = await user('owner');
    await user('b');
    await user('c');
    await expect(owner.request('groupCreate', { name: 'toolong' })).rejects.toMatchObject({ code: ErrorCode.NAME_INVALID });
    const { group } = await owner.request('groupCreate', { name: 'team' });
    await expect(owner.request('groupCreate', { name: 'team2' })).rejects.toMatchObject({ code: ErrorCode.LIMIT_REACHED });
    await owner.request('groupAddMember', { groupId: group.id, user: 'b' });
    await expect(owner.request('groupAddMember', { groupId: group.id, user: 'c' })).rejects.toMatchObject({ code: ErrorCode.LIMIT_REACHED });
  });
});

describe('passwords', () => {
  it('a login whose password check ends after a host reset is refused: the old password opens no session', async () => {
    const check = holdNextCheck();
    await room.start({ holdScrypt: check.hold });
    (await user('alice', 'old password')).close();
    const peer = await raw();
    // Its check has read the old hash and is held before scrypt while the host resets the password.
    const answer = check.arm(() => peer.request('login', { name: 'alice', password: 'old password' }));
    await check.reached;
    await room.host.server.admin.resetPassword('alice', 'new password');
    check.release();
    expect(errorOf(await answer).code).toBe(ErrorCode.WRONG_PASSWORD);
    expect(await loginError('alice', 'old password')).toBe(ErrorCode.WRONG_PASSWORD);
    expect((await user('alice', 'new password')).state).toBe('online');
  });

  it('a login whose password check ends after a ban is refused', async () => {
    const check = holdNextCheck();
    await room.start({ holdScrypt: check.hold });
    (await user('mallory')).close();
    const peer = await raw();
    const answer = check.arm(() => peer.request('login', { name: 'mallory', password: 'mallory-secret' }));
    await check.reached;
    await room.host.server.admin.ban({ name: 'mallory' });
    check.release();
    expect(errorOf(await answer).code).toBe(ErrorCode.BANNED);
  });

  it('a waiting login whose password check ends after the host rejected the account answers UNKNOWN_USER', async () => {
    const check = holdNextCheck();
    await room.start({ holdScrypt: check.hold, access: { mode: 'approval' } });
    expect(await loginError('eve')).toBe(ErrorCode.PENDING_APPROVAL);
    const peer = await raw();
    const answer = check.arm(() => peer.request('login', { name: 'eve', password: 'eve-secret', create: false }));
    await check.reached;
    await room.host.server.admin.reject('eve');
    check.release();
    expect(errorOf(await answer).code).toBe(ErrorCode.UNKNOWN_USER);
  });

  it('changing one\'s own password needs the current one and ends the other sessions', async () => {
    await room.start();
    const laptop = await user('alice', 'first pass');
    const phone = await user('alice', 'first pass');
    const phoneToken = phone.sessionToken!;
    await expect(laptop.request('changePassword', { current: 'wrong', password: 'second pass' })).rejects.toMatchObject({ code: ErrorCode.WRONG_PASSWORD });

    const phoneEnded = nextEvent(phone, 'fatal');
    await laptop.request('changePassword', { current: 'first pass', password: 'second pass' });
    expect((await phoneEnded)[0].code).toBe(ErrorCode.PASSWORD_CHANGED);
    expect(laptop.state).toBe('online');
    await expect(laptop.request('users')).resolves.toBeTruthy();

    expect(await loginError('alice', 'first pass')).toBe(ErrorCode.WRONG_PASSWORD);
    const peer = await raw();
    expect(errorOf(await peer.request('login', { name: 'alice', token: phoneToken })).code).toBe(ErrorCode.BAD_TOKEN);
    expect((await user('alice', 'second pass')).state).toBe('online');
  });

  it('the host resets a password to a given or a generated one; old sessions end', async () => {
    await room.start();
    const bob = await user('bob', 'forgotten');
    const ended = nextEvent(bob, 'fatal');
    expect(await room.host.server.admin.resetPassword('bob', 'temporary')).toBe('temporary');
    expect((await ended)[0].code).toBe(ErrorCode.PASSWORD_CHANGED);
    expect((await user('bob', 'temporary')).state).toBe('online');
    const generated = await room.host.server.admin.resetPassword('bob');
    expect(generated.length).toBeGreaterThanOrEqual(12);
    expect((await user('bob', generated)).state).toBe('online');
  });
});

describe('spoofed names', () => {
  it('refuses invisible, bidi and look-alike names of existing users', async () => {
    await room.start();
    (await user('alice')).close();
    for (const spoof of ['\u0430lice', 'a1ice', 'aIice', 'ALİCE'.replace('İ', '\u0399')]) {
      expect(await loginError(spoof), spoof).toBe(ErrorCode.NAME_TAKEN);
    }
    for (const bad of ['ali\u200bce', 'ali\u202ece', 'ali\u3164ce', 'alice\u034f']) {
      expect(await loginError(bad), JSON.stringify(bad)).toBe(ErrorCode.NAME_INVALID);
    }
  });
});

describe('no plaintext password at rest', () => {
  it('keeps no password or passphrase in any file of the data folder or in the log', async () => {
    const secrets = ['Passphrase-7fq2', 'First-Pass-9xk1', 'Second-Pass-3mz8', 'Wrong-Guess-5tb4', 'Reset-Pass-8hw6'];
    await room.start({ access: { mode: 'passphrase', passphrase: secrets[0]! } });
    const alice = await user('alice', secrets[1]!, secrets[0]);
    expect(await loginError('alice', secrets[3]!)).toBe(ErrorCode.WRONG_PASSWORD);
    await alice.request('changePassword', { current: secrets[1]!, password: secrets[2]! });
    await room.host.server.admin.resetPassword('alice', secrets[4]!);
    (await user('alice', secrets[4]!)).close();
    await room.stop();

    const files: string[] = [];
    const walk = (folder: string): void => {
      for (const entry of readdirSync(folder)) {
        const path = join(folder, entry);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(room.dir);
    expect(files.some((file) => file.endsWith('server.log'))).toBe(true);
    expect(files.some((file) => file.endsWith('chat.sqlite'))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of secrets) {
        for (const encoding of ['utf8', 'utf16le'] as const) {
          expect(bytes.includes(Buffer.from(secret, encoding)), `${secret} in ${file}`).toBe(false);
        }
      }
    }
  });
});

describe('protocol', () => {
  it('accepts the passphrase field on any login; open mode ignores it', async () => {
    await room.start();
    const peer = await raw();
    const response = await peer.request('login', { name: 'dora', password: 'pw', passphrase: 'ignored in open mode' });
    expect(response).toMatchObject({ ok: true, result: { registered: true } });
  });
});
