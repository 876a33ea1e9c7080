/**
 * End-to-end smoke tests of the two CLIs as real processes: what only the process
 * wiring does (argv, stdin, stdout, signals, exit codes). Parsing, output and the
 * client's behaviour are tested in-process (host-args, chat-run, terminal).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { RawPeer } from '../testing/harness.js';
import { CliProcess } from '../testing/process.js';
import { useRoom } from '../testing/room.js';

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
    expect(host.lines).toContain('stopping (SIGTERM)');
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
