/**
 * Joining with a fingerprint a room announced (what the Join screen sends for a room on the
 * network), over loopback with real app cores: the announcement sets what a first connection
 * must present, a pin still comes first. Announcing itself is tested in discovery.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src-shared/api.js';
import { TEST_PASSWORD_COST, removeDir, tempDir } from '../testing/harness.js';
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

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** A hosted room on loopback and its fingerprint. */
async function hostedRoom(): Promise<{ port: number; fingerprint: string }> {
  const session = unwrap(await newCore().host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' }));
  return { port: session.hosting!.port, fingerprint: session.hosting!.fingerprint! };
}

describe('joining a room with its announced fingerprint', () => {
  it('says so when the first handshake presents the announced fingerprint', async () => {
    const room = await hostedRoom();
    const bob = newCore();
    const joined = unwrap(
      await bob.join({ host: '127.0.0.1', port: room.port, name: 'bob', password: 'bob-secret', announcedFingerprint: room.fingerprint }),
    );
    expect(joined.security).toEqual({ encrypted: true, fingerprint: room.fingerprint, firstUse: true, matchesAnnounced: true });
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

  it('answers nearbyRooms with UNSUPPORTED while discovery is turned off, as in these tests', async () => {
    expect(await newCore().nearbyRooms()).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });
});
