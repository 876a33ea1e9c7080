/**
 * Discovery between machines of a throwaway LAN made of network namespaces (multicast does
 * not cross loopback): real hosts announce, a real app core watches and joins. Skipped,
 * with the reason printed, where namespaces cannot be created.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type TestContext, describe, it } from 'vitest';
import type { NearbyRoom, Result, SessionView } from '../../src-shared/api.js';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { MAX_NEARBY_ROOMS } from './browse.js';
import { removeDir, seedIdentity, tempDir } from '../testing/harness.js';
import { type LanProcess, type TestLan, createLan, lanUnavailable } from '../testing/netns.js';

const unavailable = lanUnavailable();
if (unavailable) console.warn(`discovery tests skipped: ${unavailable}`);

const FINGERPRINT = /^fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/;

// Each test starts several node processes, slow to boot on a loaded machine. The tests run side by
// side, each on a LAN of its own: they spend their time waiting for processes to boot and announce.
describe.skipIf(unavailable !== null)('rooms on a LAN of network namespaces', { timeout: 120_000, concurrent: true }, () => {
  // Each machine is a namespace of its own, so these ports are free; distinct ones keep the
  // service instance names (machine name and port, and all test machines share one name) apart.
  let nextPort = 7101;

  /** A LAN of four machines for one test, removed with its processes and folders when the test ends. */
  function testLan(onTestFinished: TestContext['onTestFinished']) {
    const lan: TestLan = createLan(4);
    const dirs: string[] = [];
    onTestFinished(async () => {
      await lan.remove();
      for (const made of dirs) removeDir(made);
    });
    const dir = (): string => {
      const made = tempDir('lanchat-discovery-');
      dirs.push(made);
      return made;
    };

    async function host(
      machine: number,
      args: string[],
      port = nextPort++,
    ): Promise<{ process: LanProcess; port: number; fingerprint: string | null; data: string; announced: string }> {
      const data = dir();
      await seedIdentity(data);
      const process = lan.run(machine, 'src-main/cli/host.ts', ['--port', String(port), '--data', data, ...args]);
      await process.waitLine(/^listening [\d.]+:(\d+)$/);
      const security = await process.waitLine(/^fingerprint .*|^not encrypted.*/);
      const [announced] = await process.waitLine(/^(announced on the local network|not announced).*/);
      return { process, port, fingerprint: FINGERPRINT.exec(security[0])?.[1] ?? null, data, announced };
    }

    /** The app core watching from a machine, with the latest list it reported. */
    function watcher(machine: number) {
      const process = lan.run(machine, 'src-main/discovery/testing/watch-client.ts', [dir()]);
      const latest = (): NearbyRoom[] => {
        const line = process.lines.findLast((candidate) => candidate.startsWith('rooms '));
        return line ? (JSON.parse(line.slice('rooms '.length)) as NearbyRoom[]) : [];
      };
      const until = async (what: string, check: (rooms: NearbyRoom[]) => boolean, timeoutMs = 20_000): Promise<NearbyRoom[]> => {
        await process.waitLine(/^rooms /);
        const deadline = Date.now() + timeoutMs;
        while (!check(latest())) {
          if (Date.now() > deadline) throw new Error(`no room list where ${what}; it printed:\n${process.lines.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return latest();
      };
      const join = async (request: object): Promise<Result<SessionView>> => {
        const from = process.lines.length;
        process.write(`join ${JSON.stringify(request)}`);
        const [line] = await process.waitLine(/^joined .*/, { from });
        return JSON.parse(line.slice('joined '.length)) as Result<SessionView>;
      };
      /** Every list it reported, oldest first. */
      const history = (): NearbyRoom[][] =>
        process.lines.filter((line) => line.startsWith('rooms ')).map((line) => JSON.parse(line.slice('rooms '.length)) as NearbyRoom[]);
      return { process, until, join, history };
    }

    return { lan, dir, host, watcher };
  }

  const at = (rooms: NearbyRoom[], address: string, port: number) => rooms.find((room) => room.host === address && room.port === port);
  const machine = hostname().split('.')[0]!;
  /** The accounts a host's log shows registering or logging in. */
  const accountsIn = (data: string): string[] =>
    readFileSync(join(data, 'server.log'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event: string; user?: string })
      .filter((entry) => entry.event === 'registration' || entry.event === 'login')
      .map((entry) => entry.user!);

  it('a hosted room appears on another machine with its fields, rooms of one name are told apart, and one leaves when it stops', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const [lab, plain] = await Promise.all([host(0, ['--room', 'Lab', '--access', 'approval']), host(0, ['--room', 'Lab', '--no-tls'])]);
    const rooms = await client.until('both rooms on machine 0 are listed', (list) => list.filter((room) => room.roomName === 'Lab').length === 2);

    expect(at(rooms, lan.address(0), lab.port)).toEqual({
      id: `LanChat ${machine} ${lab.port}._lanchat._tcp.local`,
      roomName: 'Lab',
      hostName: machine,
      host: lan.address(0),
      port: lab.port,
      protocol: PROTOCOL_VERSION,
      tls: true,
      access: 'approval',
      fingerprint: lab.fingerprint,
    });
    expect(at(rooms, lan.address(0), plain.port)).toMatchObject({ roomName: 'Lab', tls: false, fingerprint: null, access: 'open' });

    // Stopped with SIGTERM: its goodbye takes it off the list, the other room stays.
    await lab.process.stop();
    const after = await client.until('the stopped room is gone', (list) => at(list, lan.address(0), lab.port) === undefined);
    expect(at(after, lan.address(0), plain.port)).toBeDefined();
  });

  it('a room names its machine as <name>.local in its SRV record', async ({ expect, onTestFinished }) => {
    const { lan, host } = testLan(onTestFinished);
    const lab = await host(0, ['--room', 'Lab']);
    const srv = lan.run(1, 'src-main/discovery/testing/srv.ts', []);
    const [, instance, target, port] = await srv.waitLine(/^srv (.+) (\S+) (\d+)$/);
    expect({ instance, target, port: Number(port) }).toEqual({
      instance: `LanChat ${hostname().split('.')[0]!} ${lab.port}`,
      target: `${hostname().split('.')[0]!}.local`,
      port: lab.port,
    });
  });

  it('a room hosted with --no-announce is not listed', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const hidden = await host(0, ['--room', 'Hidden', '--no-announce']);
    expect(hidden.process.lines).toContain('not announced: announcing is turned off for this room');
    // A room announced after the hidden one started: once it is listed, the hidden one would have been too.
    const marker = await host(3, ['--room', 'Marker']);
    const rooms = await client.until('the marker room is listed', (list) => at(list, lan.address(3), marker.port) !== undefined);
    expect(rooms.map((room) => room.roomName)).toEqual(['Marker']);
  });

  it('joining an impostor that announces the genuine fingerprint is refused; the genuine room joins as a first use', async ({ expect, onTestFinished }) => {
    const { lan, dir, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const genuine = await host(0, ['--room', 'Lab']);
    const impostorDir = dir();
    await seedIdentity(impostorDir);
    const impostor = lan.run(1, 'src-main/discovery/testing/impostor.ts', [impostorDir, 'Lab', genuine.fingerprint!]);
    const impostorPort = Number((await impostor.waitLine(/^impostor (\d+)$/))[1]);
    const rooms = await client.until('both rooms named Lab are listed', (list) => list.length === 2);
    const fake = at(rooms, lan.address(1), impostorPort)!;
    expect(fake).toMatchObject({ roomName: 'Lab', fingerprint: genuine.fingerprint });

    const refused = await client.join({ host: fake.host, port: fake.port, name: 'bob', password: 'bob-secret', announcedFingerprint: fake.fingerprint });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('FINGERPRINT_CHANGED');
    expect(refused.error.message).toContain('not the room that was announced');
    expect(refused.error.fingerprints?.pinned).toBe(genuine.fingerprint);
    expect(refused.error.fingerprints?.presented).not.toBe(genuine.fingerprint);

    const real = at(rooms, lan.address(0), genuine.port)!;
    const joined = await client.join({ host: real.host, port: real.port, name: 'bob', password: 'bob-secret', announcedFingerprint: real.fingerprint });
    // A first use, to compare: that it matched the announcement proves nothing, so the app does not say it.
    expect(joined.ok && joined.value.security).toEqual({ encrypted: true, fingerprint: genuine.fingerprint, firstUse: true });
  });

  it('a second room of a joined room\'s name on another machine is listed as a look-alike and gets no password without a separate confirmation', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const genuine = await host(0, ['--room', 'Team Room']);
    const impostor = await host(1, ['--room', 'Team Room']);
    const both = await client.until('both rooms are listed', (list) => list.length === 2);
    const real = at(both, lan.address(0), genuine.port)!;
    const joined = await client.join({ host: real.host, port: real.port, name: 'bob', password: 'bob-secret', announcedFingerprint: real.fingerprint!, announcedRoomName: real.roomName });
    expect(joined.ok).toBe(true);
    expect(accountsIn(genuine.data)).toContain('bob');

    const marked = await client.until('the rooms are marked', (list) => at(list, lan.address(0), genuine.port)?.identity === 'known');
    const fake = at(marked, lan.address(1), impostor.port)!;
    expect(fake).toMatchObject({ roomName: 'Team Room', fingerprint: impostor.fingerprint, identity: 'lookalike' });

    // Joined from the list, as the Join screen does: refused after hello, before any credentials.
    const request = { host: fake.host, port: fake.port, name: 'bob', password: 'bob-secret', announcedFingerprint: fake.fingerprint!, announcedRoomName: fake.roomName };
    const refused = await client.join(request);
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'LOOKALIKE_ROOM', lookalike: { roomName: 'Team Room', known: genuine.fingerprint, presented: impostor.fingerprint } },
    });
    // The first-use confirmation is not this one.
    expect(await client.join({ ...request, acceptFingerprint: impostor.fingerprint })).toMatchObject({ ok: false, error: { code: 'LOOKALIKE_ROOM' } });
    expect(accountsIn(impostor.data)).toEqual([]);

    const confirmed = await client.join({ ...request, acceptFingerprint: impostor.fingerprint, differentRoom: true });
    expect(confirmed.ok).toBe(true);
    expect(accountsIn(impostor.data)).toContain('bob');
  });

  it('a room whose instance name another took first is announced as "(2)" and says so', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const port = nextPort++;
    const squatter = lan.run(1, 'src-main/discovery/testing/spoof.ts', ['squat', `LanChat ${machine} ${port}`, '40001']);
    await squatter.waitLine(/^squatting$/);
    await client.until('the squatter is listed', (list) => list.some((room) => room.roomName === 'Squatter'));

    const lab = await host(0, ['--room', 'Lab'], port);
    expect(lab.announced).toBe(`announced on the local network as "LanChat ${machine} ${port} (2)": "LanChat ${machine} ${port}" is taken by another host on the network`);
    const rooms = await client.until('the room is listed', (list) => at(list, lan.address(0), port) !== undefined);
    expect(at(rooms, lan.address(0), port)).toMatchObject({ id: `LanChat ${machine} ${port} (2)._lanchat._tcp.local`, roomName: 'Lab' });
    const log = readFileSync(join(lab.data, 'server.log'), 'utf8');
    expect(log).toContain(`"event":"announced","instance":"LanChat ${machine} ${port} (2)","taken":["LanChat ${machine} ${port}"]`);
  });

  it('spoofed goodbyes do not take a joined room off the list while it answers, and it goes once it stops', async ({ expect, onTestFinished }) => {
    const { lan, dir, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const lab = await host(0, ['--room', 'Lab']);
    const other = await host(3, ['--room', 'Other']);
    const rooms = await client.until('both rooms are listed', (list) => list.length === 2);
    const real = at(rooms, lan.address(0), lab.port)!;
    expect((await client.join({ host: real.host, port: real.port, name: 'bob', password: 'bob-secret', announcedFingerprint: real.fingerprint! })).ok).toBe(true);

    const instance = real.id.replace(/\._lanchat\._tcp\.local$/, '');
    const goodbyes = [instance, `LanChat ${machine} ${other.port}`].map((name) => lan.run(1, 'src-main/discovery/testing/spoof.ts', ['goodbyes', name]));
    await Promise.all(goodbyes.map((spoofer) => spoofer.waitLine(/^goodbyes$/)));
    const from = client.history().length;
    // The room never joined goes with the goodbyes: the spoofing reached the watcher.
    await client.until('the other room is gone', (list) => at(list, lan.address(3), other.port) === undefined);
    // Several re-queries (one a second here) under goodbyes every 200 ms: the joined room was in every list.
    const marker = client.process.lines.length;
    await client.process.waitLine(/^rooms /, { from: marker });
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(client.history().slice(from).every((list) => at(list, lan.address(0), lab.port) !== undefined)).toBe(true);
    expect(at(client.history().at(-1)!, lan.address(0), lab.port)).toMatchObject({ identity: 'known' });

    // The terminal client's --discover, which has pinned the room, lists it all the same (without the fix: "no rooms found").
    const home = dir();
    writeFileSync(join(home, '.terminal-pins.json'), JSON.stringify({ [`${lan.address(0)}:${lab.port}`]: lab.fingerprint }));
    const discover = lan.run(2, 'src-main/cli/chat.ts', ['--discover', '--wait', '3'], { LANCHAT_HOME: home });
    expect(await discover.waitExit()).toBe(0);
    expect(discover.lines).toContain(
      `room "Lab" on ${machine} at ${lan.address(0)}:${lab.port} ` +
        `(encrypted, announced fingerprint ${lab.fingerprint}; access open; protocol ${PROTOCOL_VERSION}; joined before)`,
    );

    // Another machine that announces the joined room's instance name after it does not take its place.
    const before = client.history().length;
    const squatter = lan.run(3, 'src-main/discovery/testing/spoof.ts', ['squat', instance, '40001']);
    await squatter.waitLine(/^squatting$/);
    const both = await client.until('the squatter is listed too', (list) => list.some((room) => room.roomName === 'Squatter'));
    expect(both.find((room) => room.roomName === 'Squatter')).toMatchObject({ id: `${real.id} ${lan.address(3)}:40001`, host: lan.address(3) });
    expect(client.history().slice(before).every((list) => at(list, lan.address(0), lab.port)?.id === real.id)).toBe(true);

    // Stopped for real, it no longer answers on its address and leaves the list.
    await lab.process.stop();
    await client.until('the stopped room is gone', (list) => at(list, lan.address(0), lab.port) === undefined);
  });

  it('a flood of announcements fills the list only up to its cap, and the watcher keeps working', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const flood = lan.run(1, 'src-main/discovery/testing/flood.ts', [String(MAX_NEARBY_ROOMS + 20)]);
    await flood.waitLine(/^flooding$/);
    await client.until('the list is full', (list) => list.length === MAX_NEARBY_ROOMS);
    await flood.stop();
    // The flood stopped without goodbyes: its rooms age out of the list, while the client still answers.
    const lab = await host(0, ['--room', 'Lab']);
    const left = (list: NearbyRoom[]): boolean => list.length === 1 && at(list, lan.address(0), lab.port) !== undefined;
    await client.until('only the real room is left', left, 60_000);
    // The flood answered every query meanwhile, with more rooms than the cap: never more were listed.
    expect(Math.max(...client.history().map((list) => list.length))).toBe(MAX_NEARBY_ROOMS);
  });

  it('npm run chat -- --discover lists the rooms found and exits', async ({ expect, onTestFinished }) => {
    const { lan, host } = testLan(onTestFinished);
    const lab = await host(0, ['--room', 'Lab']);
    const discover = lan.run(2, 'src-main/cli/chat.ts', ['--discover', '--wait', '1']);
    expect(await discover.waitExit()).toBe(0);
    expect(discover.lines).toContain(
      `room "Lab" on ${hostname().split('.')[0]} at ${lan.address(0)}:${lab.port} ` +
        `(encrypted, announced fingerprint ${lab.fingerprint}; access open; protocol ${PROTOCOL_VERSION})`,
    );
    expect(discover.lines).toContain('1 room found');
  });
});
