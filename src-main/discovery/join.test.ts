/**
 * Joining with a fingerprint a room announced (what the Join screen sends for a room on the
 * network), over loopback with real app cores: the announcement sets what a first connection
 * must present, a pin still comes first. Announcing itself is tested in discovery.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_PASSWORD_COST, removeDir, tempDir, unwrap } from '../testing/harness.js';
import { AppCore } from '../core/app.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(): AppCore {
  const profileDir = tempDir('lanchat-join-');
  const core = new AppCore({ profileDir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => removeDir(profileDir));
  cleanups.push(() => core.shutdown());
  return core;
}

/** A hosted room on loopback (a certificate of its own each time), its fingerprint and the core hosting it. */
async function hostedRoom(roomName = 'Lab'): Promise<{ port: number; fingerprint: string; core: AppCore }> {
  const core = newCore();
  const session = unwrap(await core.host({ roomName, port: 0, name: 'alice', password: 'alice-secret' }));
  return { port: session.hosting!.port, fingerprint: session.hosting!.fingerprint!, core };
}

/** The names of the accounts a hosted room's log shows registering or logging in. */
async function accountsSeen(room: { core: AppCore }): Promise<unknown[]> {
  return unwrap(await room.core.hostLog())
    .filter((entry) => entry.event === 'registration' || entry.event === 'login')
    .map((entry) => entry.user);
}

describe('joining a room with its announced fingerprint', () => {
  it('says so when the first handshake presents the announced fingerprint', async () => {
    const room = await hostedRoom();
    const bob = newCore();
    const joined = unwrap(
      await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', announcedFingerprint: room.fingerprint }),
    );
    // The announcement is the room's own word: the banner does not cite it (issue 33).
    expect(joined.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: true });
  });

  it('refuses a first handshake that presents another fingerprint, naming it as announced', async () => {
    const room = await hostedRoom();
    const claimed = (await hostedRoom()).fingerprint;
    const bob = newCore();
    const refused = await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', announcedFingerprint: claimed });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'FINGERPRINT_CHANGED', fingerprints: { pinned: claimed, presented: room.fingerprint, announced: true } },
    });
    expect(unwrap(await bob.session()).status).toBe('offline');
    // The user's explicit trust goes past the announcement, as it goes past a pin.
    const trusted = unwrap(
      await bob.join({
        host: '127.0.0.1',
        port: room.port,
        name: 'bob',
        password: 'bob-secret',
        announcedFingerprint: claimed,
        acceptFingerprint: room.fingerprint,
      }),
    );
    // Trusting it was the check: no first-use note asks for it again (issue 11).
    expect(trusted.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: false });
  });

  it('checks a pinned fingerprint before an announced one', async () => {
    const room = await hostedRoom();
    const claimed = (await hostedRoom()).fingerprint;
    const bob = newCore();
    unwrap(await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    unwrap(await bob.leave());
    // Pinned now: an announcement claiming another fingerprint changes nothing.
    const again = unwrap(
      await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', announcedFingerprint: claimed }),
    );
    expect(again.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: false });
  });

  it('a room that calls itself like a room joined before, with another certificate, gets no password without a separate confirmation', async () => {
    const genuine = await hostedRoom('Team Room');
    const impostor = await hostedRoom('Team Room');
    const bob = newCore();
    unwrap(await bob.join({ host: '127.0.0.1', port: genuine.port, name: 'bob', password: 'bob-secret' }));
    unwrap(await bob.leave());

    // The impostor's address was never joined: as a first use it would have had bob's password.
    const refused = await bob.join({ host: '127.0.0.1', port: impostor.port, name: 'bob', password: 'bob-secret' });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'LOOKALIKE_ROOM', lookalike: { roomName: 'Team Room', known: genuine.fingerprint, presented: impostor.fingerprint } },
    });
    expect(unwrap(await bob.session()).status).toBe('offline');
    expect(await accountsSeen(impostor)).not.toContain('bob');

    // Trusting its fingerprint (the first-use or changed-key confirmation) is not the confirmation this needs.
    const trustedOnly = await bob.join({ host: '127.0.0.1', port: impostor.port, name: 'bob', password: 'bob-secret', acceptFingerprint: impostor.fingerprint });
    expect(trustedOnly).toMatchObject({ ok: false, error: { code: 'LOOKALIKE_ROOM' } });
    // Nor is confirming "another room" without naming the certificate it holds for.
    const unbound = await bob.join({ host: '127.0.0.1', port: impostor.port, name: 'bob', password: 'bob-secret', differentRoom: true });
    expect(unbound).toMatchObject({ ok: false, error: { code: 'LOOKALIKE_ROOM' } });
    expect(await accountsSeen(impostor)).not.toContain('bob');

    // A name that only looks the same (Cyrillic е, no space) is the same alarm.
    const lookalike = await hostedRoom('TеamRoom');
    expect(await bob.join({ host: '127.0.0.1', port: lookalike.port, name: 'bob', password: 'bob-secret' })).toMatchObject({
      ok: false,
      error: { code: 'LOOKALIKE_ROOM', lookalike: { roomName: 'TеamRoom', known: genuine.fingerprint } },
    });
    // So is a room that announced the known name, whatever it says in hello.
    const renamed = await hostedRoom('Other');
    expect(
      await bob.join({ host: '127.0.0.1', port: renamed.port, name: 'bob', password: 'bob-secret', announcedRoomName: 'Team Room', announcedFingerprint: renamed.fingerprint }),
    ).toMatchObject({ ok: false, error: { code: 'LOOKALIKE_ROOM', lookalike: { roomName: 'Team Room' } } });

    // The separate confirmation, for the certificate shown: now it is a room of its own, and both are known.
    const confirmed = unwrap(
      await bob.join({ host: '127.0.0.1', port: impostor.port, name: 'bob', password: 'bob-secret', acceptFingerprint: impostor.fingerprint, differentRoom: true }),
    );
    expect(confirmed.security).toEqual({ encrypted: true, fingerprint: impostor.fingerprint, firstUse: false });
    expect(await accountsSeen(impostor)).toContain('bob');
    unwrap(await bob.leave());
    expect(unwrap(await bob.trustedHosts())).toEqual(
      expect.arrayContaining([
        { server: `127.0.0.1:${genuine.port}`, fingerprint: genuine.fingerprint, roomName: 'Team Room' },
        { server: `127.0.0.1:${impostor.port}`, fingerprint: impostor.fingerprint, roomName: 'Team Room' },
      ]),
    );
  });

  it('a room joined before is no first use at another address, and a room of another name is an ordinary first use', async () => {
    const room = await hostedRoom('Team Room');
    const bob = newCore();
    unwrap(await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret' }));
    unwrap(await bob.leave());
    // The same certificate at another address of this machine: the same room.
    const moved = unwrap(await bob.join({ host: 'localhost', port: room.port, name: 'bob', password: 'bob-secret' }));
    expect(moved.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: false });
    unwrap(await bob.leave());
    const other = await hostedRoom('Lab');
    const first = unwrap(await bob.join({ host: '127.0.0.1', port: other.port, name: 'bob', password: 'bob-secret' }));
    expect(first.security).toEqual({ encrypted: true, fingerprint: other.fingerprint, firstUse: true });
  });

  it('remembers rooms pinned before room names were kept: their fingerprints are known, their names learnt at the next join', async () => {
    const room = await hostedRoom('Team Room');
    const profileDir = tempDir('lanchat-join-');
    cleanups.push(() => removeDir(profileDir));
    // A pin file as earlier versions wrote it, and no rooms.json.
    writeFileSync(join(profileDir, 'pins.json'), JSON.stringify({ [`127.0.0.1:${room.port}`]: room.fingerprint }));
    const bob = new AppCore({ profileDir, passwordCost: TEST_PASSWORD_COST });
    cleanups.push(() => bob.shutdown());
    expect(unwrap(await bob.trustedHosts())).toEqual([{ server: `127.0.0.1:${room.port}`, fingerprint: room.fingerprint, roomName: null }]);
    const again = unwrap(await bob.join({ host: 'localhost', port: room.port, name: 'bob', password: 'bob-secret' }));
    expect(again.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: false });
    unwrap(await bob.leave());
    expect(unwrap(await bob.trustedHosts())).toContainEqual({ server: `127.0.0.1:${room.port}`, fingerprint: room.fingerprint, roomName: 'Team Room' });
    const impostor = await hostedRoom('Team Room');
    expect(await bob.join({ host: '127.0.0.1', port: impostor.port, name: 'bob', password: 'bob-secret' })).toMatchObject({
      ok: false,
      error: { code: 'LOOKALIKE_ROOM' },
    });
  });

  it('answers nearbyRooms with UNSUPPORTED while discovery is turned off, as in these tests', async () => {
    expect(await newCore().nearbyRooms()).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });
});
