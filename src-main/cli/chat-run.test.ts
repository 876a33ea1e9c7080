/** The terminal client run in-process against real hosts: pinning, plain TCP consent, errors, piped input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../testing/ports.js';
import { Room, useRoom } from '../testing/room.js';
import { collectMessages, waitFor } from '../testing/harness.js';
import { runChat } from './chat-run.js';

const room = useRoom();

/** Lines fed to the client as they are pushed; it reads until end(). */
class Feed implements AsyncIterable<string> {
  private readonly queued: string[] = [];
  private ended = false;
  private wake: (() => void) | null = null;

  push(line: string): void {
    this.queued.push(line);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const line = this.queued.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

interface Run {
  lines: string[];
  feed: Feed;
  exit: Promise<number>;
  waitLine: (pattern: RegExp) => Promise<RegExpExecArray>;
}

/** Runs the client in-process with its own pins file in the room's folder. */
function chat(args: string[], input: string[] | null = null): Run {
  const lines: string[] = [];
  const feed = new Feed();
  for (const line of input ?? []) feed.push(line);
  if (input !== null) feed.end();
  const exit = runChat(args, { env: {}, print: (line) => lines.push(line), lines: () => feed, pinsFile: pinsFile() });
  const waitLine = async (pattern: RegExp): Promise<RegExpExecArray> => {
    let match: RegExpExecArray | null = null;
    await waitFor(() => lines.some((line) => (match = pattern.exec(line)) !== null), () => `${pattern} in:\n${lines.join('\n')}`);
    return match!;
  };
  return { lines, feed, exit, waitLine };
}

const pinsFile = (): string => join(room.dir, 'pins.json');

const server = (): string => `127.0.0.1:${room.port}`;
const login = (user: string): string[] => ['--server', server(), '--user', user, '--password', `${user}-pw`];

describe('pinning', () => {
  it('trusts the first fingerprint, pins it, and refuses a changed one unless --fingerprint names it', async () => {
    // Not on port 0: an impostor takes the port over below, and no other test's connection may meanwhile.
    const genuine = (await room.start({ port: await freePort() })).fingerprint!;
    const first = chat(login('alice'), []);
    expect(await first.exit).toBe(0);
    expect(first.lines).toContain(`fingerprint ${genuine}`);
    expect(first.lines.some((line) => line.startsWith(`*** first connection to ${server()}`))).toBe(true);
    expect(JSON.parse(readFileSync(pinsFile(), 'utf8'))).toEqual({ [server()]: genuine });
    const again = chat(login('alice'), []);
    expect(await again.exit).toBe(0);
    expect(again.lines.some((line) => line.includes('first connection'))).toBe(false);

    // Another room's host on the same address: a different certificate.
    const port = room.port;
    const where = server();
    const alice = login('alice');
    await room.stop();
    const impostor = new Room();
    try {
      const presented = (await impostor.start({ port })).fingerprint!;
      const refused = chat(alice, []);
      expect(await refused.exit).toBe(1);
      const output = refused.lines.join('\n');
      expect(output).toContain(`the certificate of ${where} has changed: pinned fingerprint ${genuine}, presented ${presented}`);
      expect(output).toContain(`run again with --fingerprint ${presented}`);
      const accepted = chat([...alice, '--fingerprint', presented], []);
      expect(await accepted.exit).toBe(0);
      expect(accepted.lines).toContain(`fingerprint ${presented}`);
      expect(JSON.parse(readFileSync(pinsFile(), 'utf8'))).toEqual({ [where]: presented });
    } finally {
      await impostor.cleanup();
    }
  });

  it('sends nothing to another room named like one joined before, at a new address, without --different-room naming its fingerprint (issue 33, item 2)', async () => {
    const genuine = (await room.start()).fingerprint!;
    expect(await chat(login('alice'), []).exit).toBe(0);
    const impostor = new Room();
    try {
      // Another host that calls itself what the joined room does (both are "Room"), with a certificate of its own.
      const presented = (await impostor.start()).fingerprint!;
      const there = ['--server', `127.0.0.1:${impostor.port}`, '--user', 'alice', '--password', 'alice-pw'];
      const refused = chat(there, []);
      expect(await refused.exit).toBe(1);
      const output = refused.lines.join('\n');
      expect(output).toContain(`another room calls itself "Room": not the one you joined, whose fingerprint is ${genuine}`);
      expect(output).toContain(`run again with --fingerprint ${presented} --different-room`);
      // Trusting its certificate alone is not the separate confirmation.
      expect(await chat([...there, '--fingerprint', presented], []).exit).toBe(1);
      expect(impostor.logEvents().filter((e) => e.event === 'login' || e.event === 'registration')).toEqual([]);
      const confirmed = chat([...there, '--fingerprint', presented, '--different-room'], []);
      expect(await confirmed.exit).toBe(0);
      expect(impostor.logEvents().some((e) => e.event === 'login')).toBe(true);
      // The genuine room is still what it was.
      expect(await chat(login('alice'), []).exit).toBe(0);
    } finally {
      await impostor.cleanup();
    }
  });

  it('plain TCP only when both sides say so, with a clear error otherwise', async () => {
    await room.start();
    const plainClient = chat([...login('bob'), '--no-tls'], []);
    expect(await plainClient.exit).toBe(1);
    expect(plainClient.lines).toContain(`! ${server()} only accepts encrypted connections: run again without --no-tls`);

    await room.restart({ tls: false });
    const tlsClient = chat(login('bob'), []);
    expect(await tlsClient.exit).toBe(1);
    expect(tlsClient.lines.join('\n')).toContain(`${server()} did not answer with TLS`);
    const consenting = chat([...login('bob'), '--no-tls'], []);
    expect(await consenting.exit).toBe(0);
    expect(consenting.lines.some((line) => line.startsWith('*** not encrypted'))).toBe(true);
  });
});

describe('downgrade and terminal safety', () => {
  it('never contacts a pinned TLS host in plaintext without a separate confirmation naming the pin', async () => {
    const pin = (await room.start()).fingerprint!;
    expect(await chat(login('alice'), []).exit).toBe(0);
    const port = room.port;
    const where = server();
    const alice = login('alice');
    // The host (or an impostor on its address) now answers without TLS.
    await room.restart({ tls: false, port });

    const advised = chat(alice, []);
    expect(await advised.exit).toBe(1);
    expect(advised.lines.join('\n')).toContain(`${where} is pinned to the certificate ${pin}`);
    expect(advised.lines.join('\n')).not.toMatch(/run again with --no-tls(?! --drop-pin)/);

    const connectionsBefore = room.logEvents().filter((e) => e.event === 'connection').length;
    const refused = chat([...alice, '--no-tls'], []);
    expect(await refused.exit).toBe(1);
    expect(refused.lines.join('\n')).toContain(`run again with --no-tls --drop-pin ${pin}`);
    expect(room.logEvents().filter((e) => e.event === 'connection').length).toBe(connectionsBefore);

    const wrongPin = chat([...alice, '--no-tls', '--drop-pin', 'AA'.repeat(32)], []);
    expect(await wrongPin.exit).toBe(1);
    expect(room.logEvents().filter((e) => e.event === 'connection').length).toBe(connectionsBefore);

    const confirmed = chat([...alice, '--no-tls', '--drop-pin', pin], []);
    expect(await confirmed.exit).toBe(0);
    expect(JSON.parse(readFileSync(pinsFile(), 'utf8'))).toEqual({ [where]: 'unencrypted' });
  });

  it('prints no control character a host or a peer sent', async () => {
    await room.start({ roomName: 'evil\u001b]0;owned\u0007\u001b[2J' });
    const listener = chat(login('listener'));
    await listener.waitLine(/^type \/help for commands$/);
    const bob = await room.user('bob');
    await bob.send({ kind: 'room' }, 'hi\u001b[2J\u009b31m');
    await listener.waitLine(/bob: hi/);
    listener.feed.end();
    expect(await listener.exit).toBe(0);
    expect(listener.lines.join('\n')).toContain('connected to evil');
    expect(listener.lines.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('running', () => {
  it('sends piped input and exits at the end of it', async () => {
    await room.start();
    const listener = chat(login('listener'));
    await listener.waitLine(/^type \/help for commands$/);
    const piped = chat(login('piper'), ['first line', 'second line']);
    expect(await piped.exit).toBe(0);
    await listener.waitLine(/room \| piper: first line$/);
    await listener.waitLine(/room \| piper: second line$/);
    listener.feed.end();
    expect(await listener.exit).toBe(0);
  });

  it('prints a clear error for a wrong password and when nothing is listening', async () => {
    await room.start();
    expect(await chat(['--server', server(), '--user', 'carol', '--password', 'right'], []).exit).toBe(0);
    const wrong = chat(['--server', server(), '--user', 'carol', '--password', 'wrong'], []);
    expect(await wrong.exit).toBe(1);
    expect(wrong.lines).toContain('! wrong password for carol');
    const nowhere = chat(['--server', '127.0.0.1:1', '--user', 'carol', '--password', 'x'], []);
    expect(await nowhere.exit).toBe(1);
    expect(nowhere.lines).toContain('! nothing is listening on 127.0.0.1:1');
  });

  it('takes several addresses of one room: joins through the one that answers, and comes back through another when it goes', async () => {
    await room.start();
    const first = room.port;
    // Nothing listens on the second address yet; the room moves there below with its data and key,
    // which is what another node of the same room looks like to a client.
    const second = await freePort();
    const alice = chat(['--server', `127.0.0.1:${second},127.0.0.1:${first}`, '--user', 'alice', '--password', 'alice-pw']);
    await alice.waitLine(/^type \/help for commands$/);
    await room.stop();
    await room.start({ port: second });
    const bob = await room.user('bob');
    const heard = collectMessages(bob);
    await bob.send({ kind: 'room' }, 'written while alice was away');
    await alice.waitLine(/room \| bob: written while alice was away$/);
    alice.feed.push('back through the other address');
    await waitFor(() => heard.texts().includes('back through the other address'), 'bob to read alice');
    alice.feed.end();
    expect(await alice.exit).toBe(0);
    // One pin for the room, under the first address given.
    expect(Object.keys(JSON.parse(readFileSync(pinsFile(), 'utf8')))).toEqual([`127.0.0.1:${second}`]);
  });

  it('registers in a passphrase room only with the passphrase', async () => {
    await room.start({ access: { mode: 'passphrase', passphrase: 'sesame' } });
    const refused = chat(login('erin'), []);
    expect(await refused.exit).toBe(1);
    expect(refused.lines.join('\n')).toContain('this room needs its passphrase');
    const erin = chat([...login('erin'), '--passphrase', 'sesame'], []);
    expect(await erin.exit).toBe(0);
    expect(erin.lines).toContain('type /help for commands');
  });

  it('answers --help and missing arguments with the usage', async () => {
    const help = chat(['--help'], []);
    expect(await help.exit).toBe(0);
    expect(help.lines[0]).toMatch(/^usage: npm run chat/);
    const missing = chat(['--server', '127.0.0.1:1'], []);
    expect(await missing.exit).toBe(2);
    const badPin = chat(['--server', '127.0.0.1:1', '--user', 'a', '--password', 'b', '--fingerprint', 'zz'], []);
    expect(await badPin.exit).toBe(2);
    expect(badPin.lines[0]).toMatch(/--fingerprint takes a SHA-256 fingerprint/);
  });
});
