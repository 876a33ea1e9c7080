/**
 * End-to-end smoke tests of the two CLIs as real processes: what only the process
 * wiring does (argv, stdin, stdout, signals, exit codes). Parsing, output and the
 * client's behaviour are tested in-process (host-args, chat-run, terminal).
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { uploadFile } from '../client/transfer.js';
import { RawPeer } from '../testing/harness.js';
import { CliProcess } from '../testing/process.js';
import { useRoom } from '../testing/room.js';
import { fillDisk, useSmallDisk } from '../testing/small-disk.js';

const room = useRoom();

describe('headless host', () => {
  it('prints its address and fingerprint when ready, takes admin commands from standard input, stops on SIGTERM', async () => {
    const host = CliProcess.run('host', ['--port', '0', '--bind', '127.0.0.1', '--data', room.dir, '--access', 'approval']);
    const port = await host.port();
    await host.waitLine(/^fingerprint (?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const peer = await RawPeer.open(port);
    try {
      expect(await peer.login('dave')).toMatchObject({ ok: false, error: { code: ErrorCode.PENDING_APPROVAL } });
      host.type('/approve dave');
      await host.waitLine(/^approved dave$/);
      expect(await peer.request('login', { name: 'dave', password: 'dave-secret' })).toMatchObject({ ok: true });
      host.type('/users');
      await host.waitLine(/^dave {2}127\.0\.0\.1:\d+ {2}\(no client name\)$/);
    } finally {
      peer.destroy();
    }
    host.child.kill('SIGTERM');
    expect(await host.waitExit()).toBe(0);
    expect(host.lines).toContain('draining (SIGTERM)');
  });

  it('exits 1 with the usage on bad arguments', async () => {
    const host = CliProcess.run('host', ['--port', '99999', '--data', room.dir]);
    expect(await host.waitExit()).toBe(1);
    expect(host.output).toContain('--port must be 0 to 65535');
  });
});

describe('terminal client', () => {
  it('sends piped input, pins the host in LANCHAT_HOME, and exits 0 at the end of input', async () => {
    const started = await room.start();
    const listener = await room.user('listener');
    const got = new Promise<string>((resolve) => listener.on('message', (m) => resolve(m.text)));
    const piped = CliProcess.run('chat', ['--server', `127.0.0.1:${room.port}`, '--user', 'piper', '--password', 'pw'], {
      LANCHAT_HOME: room.dir,
    });
    piped.child.stdin.end('piped line\n');
    expect(await piped.waitExit()).toBe(0);
    expect(await got).toBe('piped line');
    expect(piped.lines).toContain(`fingerprint ${started.fingerprint}`);
    expect(piped.output).toContain(`${room.dir}/.terminal-pins.json`);
  });
});

describe('terminal client on a full disk', () => {
  const disk = useSmallDisk('1m');

  it('/get of a file it cannot save says why and runs on; one whose name is too long as sent is saved under a shorter one', async (context) => {
    const dir = disk.dir(context);
    await room.start();
    const alice = await room.user('alice');
    // 62 emoji and ".txt": 252 bytes, which ".part" takes past the 255 of a file name.
    const name = `${'😀'.repeat(62)}.txt`;
    const file = await uploadFile(alice.transferLink()!, { source: { bytes: Buffer.from('x'.repeat(10_000)) }, name });
    const chat = CliProcess.run('chat', ['--server', `127.0.0.1:${room.port}`, '--user', 'bob', '--password', 'pw'], { LANCHAT_HOME: room.dir });
    await chat.waitLine(/^type \/help for commands$/);
    const message = await alice.send({ kind: 'room' }, 'a file', undefined, undefined, [{ fileId: file.id }]);
    await chat.waitLine(new RegExp(`/get ${message.id}\\]$`));

    fillDisk(join(dir, 'filler'));
    chat.type(`/get ${message.id} ${dir}`);
    await chat.waitLine(/^! this computer’s disk is full: free some space, then retry$/);

    const folder = join(room.dir, 'saved');
    mkdirSync(folder);
    chat.type(`/get ${message.id} ${folder}`);
    await chat.waitLine(/^\*\*\* saved 😀+\.txt \(9\.8 KB, application\/octet-stream\) to /u);
    expect(readdirSync(folder)).toEqual([`${'😀'.repeat(61)}.txt`]);
    expect(readFileSync(join(folder, readdirSync(folder)[0]!), 'utf8')).toBe('x'.repeat(10_000));
    chat.child.stdin.end();
    expect(await chat.waitExit()).toBe(0);
  });
});
