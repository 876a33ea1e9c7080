/**
 * Discovery between machines of a throwaway LAN made of network namespaces (multicast does
 * not cross loopback): real hosts announce, a real app core watches and joins. Skipped,
 * with the reason printed, where namespaces cannot be created.
 */
import { hostname } from 'node:os';
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
describe.skipIf(unavailable !== null)('rooms on a LAN of network namespaces', { timeout: 60_000, concurrent: true }, () => {
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

    async function host(machine: number, args: string[]): Promise<{ process: LanProcess; port: number; fingerprint: string | null }> {
      const data = dir();
      await seedIdentity(data);
      const process = lan.run(machine, 'src-main/cli/host.ts', ['--port', String(nextPort++), '--data', data, ...args]);
      const [, port] = await process.waitLine(/^listening [\d.]+:(\d+)$/);
      const security = await process.waitLine(/^fingerprint .*|^not encrypted.*/);
      await process.waitLine(/^announced on the local network|^not announced/);
      return { process, port: Number(port), fingerprint: FINGERPRINT.exec(security[0])?.[1] ?? null };
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

  it('a hosted room appears on another machine with its fields, rooms of one name are told apart, and one leaves when it stops', async ({ expect, onTestFinished }) => {
    const { lan, host, watcher } = testLan(onTestFinished);
    const client = watcher(2);
    const [lab, plain] = await Promise.all([host(0, ['--room', 'Lab', '--access', 'approval']), host(0, ['--room', 'Lab', '--no-tls'])]);
    const rooms = await client.until('both rooms on machine 0 are listed', (list) => list.filter((room) => room.roomName === 'Lab').length === 2);

    const machine = hostname().split('.')[0]!;
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

  it('joining an impostor that announces the genuine fingerprint is refused; the genuine room joins and says it matched', async ({ expect, onTestFinished }) => {
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
    expect(joined.ok && joined.value.security).toEqual({
      encrypted: true,
      fingerprint: genuine.fingerprint,
      firstUse: true,
      matchesAnnounced: true,
    });
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
  }, 90_000);

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
