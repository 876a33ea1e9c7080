import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { RawPeer, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { parseServer, printable } from './terminal.js';

/** A CLI process with its output gathered line by line. */
class Cli {
  readonly lines: string[] = [];
  exitCode: number | null = null;
  private partial = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    const take = (chunk: Buffer): void => {
      this.partial += chunk.toString('utf8');
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code) => {
      this.exitCode = code ?? -1;
    });
  }

  static run(script: string, args: string[]): Cli {
    const child = spawn(process.execPath, ['--import', 'tsx', `src-main/cli/${script}.ts`, ...args], {
      cwd: process.cwd(),
      // Each test's own config folder: the terminal client pins fingerprints there, never in the real home.
      env: { ...process.env, TZ: 'UTC', LANCHAT_HOME: home },
    });
    const cli = new Cli(child);
    running.push(cli);
    return cli;
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  async waitLine(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(
      () => this.lines.some((line) => (match = pattern.exec(line)) !== null),
      timeoutMs,
      `a line matching ${pattern} in:\n${this.lines.join('\n')}`,
    );
    return match!;
  }

  async waitExit(timeoutMs = 15_000): Promise<number> {
    await waitFor(() => this.exitCode !== null, timeoutMs, 'the process to exit');
    return this.exitCode!;
  }
}

const running: Cli[] = [];
const dirs: string[] = [];
let home: string;

beforeEach(() => {
  home = tempDir('lanchat-cli-home-');
  dirs.push(home);
});

afterEach(() => {
  for (const cli of running.splice(0)) if (cli.exitCode === null) cli.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) removeDir(dir);
});

const FINGERPRINT = /^fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/;

async function startHostCli(
  options: { port?: string; dir?: string; extra?: string[] } = {},
): Promise<{ host: Cli; server: string; dir: string }> {
  const dir = options.dir ?? tempDir();
  if (!dirs.includes(dir)) dirs.push(dir);
  const host = Cli.run('host', ['--port', options.port ?? '0', '--bind', '127.0.0.1', '--data', dir, ...(options.extra ?? [])]);
  const [, address, port] = await host.waitLine(/^listening (\S+):(\d+)$/);
  return { host, server: `${address}:${port}`, dir };
}

async function stopHostCli(host: Cli): Promise<void> {
  host.child.kill('SIGTERM');
  expect(await host.waitExit()).toBe(0);
}

async function chat(server: string, user: string): Promise<Cli> {
  const cli = Cli.run('chat', ['--server', server, '--user', user, '--password', `${user}-pw`]);
  await cli.waitLine(/^type \/help for commands$/);
  return cli;
}

describe('headless host', () => {
  it('prints its address when ready and stops cleanly on SIGTERM', async () => {
    const { host } = await startHostCli();
    host.child.kill('SIGTERM');
    expect(await host.waitExit()).toBe(0);
    expect(host.lines).toContain('stopping (SIGTERM)');
  });

  it('takes an access mode from its flags and admin commands from standard input', async () => {
    const { host, server } = await startHostCli({ extra: ['--access', 'approval', '--max-name', '8'] });
    const peer = await RawPeer.open(Number(server.split(':')[1]));
    try {
      expect(await peer.login('dave')).toMatchObject({ ok: false, error: { code: ErrorCode.PENDING_APPROVAL } });
      expect(await peer.request('login', { name: 'abcdefghi', password: 'pw' })).toMatchObject({
        ok: false,
        error: { code: ErrorCode.NAME_INVALID },
      });
      host.type('/pending');
      await host.waitLine(/^dave {2}since /);
      host.type('/approve dave');
      await host.waitLine(/^approved dave$/);
      expect(await peer.request('login', { name: 'dave', password: 'dave-secret' })).toMatchObject({ ok: true });
      host.type('/users');
      await host.waitLine(/^dave {2}127\.0\.0\.1:\d+ {2}\(no client name\)$/);
    } finally {
      peer.destroy();
    }
  });

  it('registers a terminal user in a passphrase room only with the passphrase', async () => {
    const { server } = await startHostCli({ extra: ['--access', 'passphrase', '--passphrase', 'sesame'] });
    const refused = Cli.run('chat', ['--server', server, '--user', 'erin', '--password', 'erin-pw']);
    expect(await refused.waitExit()).toBe(1);
    expect(refused.lines.join('\n')).toContain('this room needs its passphrase');
    const erin = Cli.run('chat', ['--server', server, '--user', 'erin', '--password', 'erin-pw', '--passphrase', 'sesame']);
    await erin.waitLine(/^type \/help for commands$/);
  });

  it('refuses bad arguments with usage', async () => {
    const host = Cli.run('host', ['--port', '99999', '--data', '/tmp/x']);
    expect(await host.waitExit()).toBe(1);
    expect(host.lines.join('\n')).toContain('--port must be 0 to 65535');
    const noPassphrase = Cli.run('host', ['--port', '0', '--data', '/tmp/x', '--access', 'passphrase']);
    expect(await noPassphrase.waitExit()).toBe(1);
    expect(noPassphrase.lines.join('\n')).toContain('--access passphrase needs --passphrase');
  });
});

describe('TLS from the command line', () => {
  it('the host prints its fingerprint when ready and keeps it across restarts', async () => {
    const { host, dir } = await startHostCli();
    const [, fingerprint] = await host.waitLine(FINGERPRINT);
    await stopHostCli(host);
    const again = await startHostCli({ dir });
    expect((await again.host.waitLine(FINGERPRINT))[1]).toBe(fingerprint);
  });

  it('the client trusts the first fingerprint, pins it, and refuses a changed one unless --fingerprint names it', async () => {
    const first = await startHostCli();
    const [, genuine] = await first.host.waitLine(FINGERPRINT);
    const alice = await chat(first.server, 'alice');
    expect(alice.lines).toContain(`fingerprint ${genuine}`);
    expect(alice.lines.some((line) => line.startsWith(`*** first connection to ${first.server}`))).toBe(true);
    const pins = JSON.parse(readFileSync(join(home, '.terminal-pins.json'), 'utf8')) as Record<string, string>;
    expect(pins).toEqual({ [first.server]: genuine });
    alice.type('/quit');
    expect(await alice.waitExit()).toBe(0);
    const again = await chat(first.server, 'alice');
    expect(again.lines.some((line) => line.includes('first connection'))).toBe(false);
    again.type('/quit');
    await again.waitExit();

    // Another room's host on the same address: a different certificate.
    await stopHostCli(first.host);
    const port = first.server.split(':')[1]!;
    const other = await startHostCli({ port });
    const [, presented] = await other.host.waitLine(FINGERPRINT);
    const refused = Cli.run('chat', ['--server', first.server, '--user', 'alice', '--password', 'alice-pw']);
    expect(await refused.waitExit()).toBe(1);
    const output = refused.lines.join('\n');
    expect(output).toContain(`the certificate of ${first.server} has changed: pinned fingerprint ${genuine}, presented ${presented}`);
    expect(output).toContain(`run again with --fingerprint ${presented}`);

    const accepted = Cli.run('chat', ['--server', first.server, '--user', 'alice', '--password', 'alice-pw', '--fingerprint', presented!]);
    await accepted.waitLine(/^type \/help for commands$/);
    expect(accepted.lines).toContain(`fingerprint ${presented}`);
    expect(JSON.parse(readFileSync(join(home, '.terminal-pins.json'), 'utf8'))).toEqual({ [first.server]: presented });
  });

  it('plain TCP only when both sides say so, with a clear error otherwise', async () => {
    const encrypted = await startHostCli();
    const plainClient = Cli.run('chat', ['--server', encrypted.server, '--user', 'bob', '--password', 'pw', '--no-tls']);
    expect(await plainClient.waitExit()).toBe(1);
    expect(plainClient.lines).toContain(`! ${encrypted.server} only accepts encrypted connections: run again without --no-tls`);

    const plain = await startHostCli({ extra: ['--no-tls'] });
    await plain.host.waitLine(/^not encrypted: TLS is off/);
    const tlsClient = Cli.run('chat', ['--server', plain.server, '--user', 'bob', '--password', 'pw']);
    expect(await tlsClient.waitExit()).toBe(1);
    expect(tlsClient.lines.join('\n')).toContain(`${plain.server} did not answer with TLS`);
    const consenting = Cli.run('chat', ['--server', plain.server, '--user', 'bob', '--password', 'pw', '--no-tls']);
    await consenting.waitLine(/^type \/help for commands$/);
    expect(consenting.lines.some((line) => line.startsWith('*** not encrypted'))).toBe(true);
  });
});

describe('terminal client', () => {
  it('runs the seed commands through a pipe, one line per event', async () => {
    const { server } = await startHostCli();
    const alice = await chat(server, 'alice');
    const bob = await chat(server, 'bob');
    await alice.waitLine(/^\*\*\* bob joined at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    bob.type('merhaba arkadaşlar');
    await alice.waitLine(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] room \| bob: merhaba arkadaşlar$/);

    alice.type('bob~are you there?');
    await bob.waitLine(/alice wants to chat privately with you: \/accept alice or \/decline alice/);
    await bob.waitLine(/\] dm alice \| alice: are you there\?$/);
    bob.type('/accept alice');
    await alice.waitLine(/bob accepted your chat request/);
    alice.type('in private now');
    await bob.waitLine(/\] dm alice \| alice: in private now$/);
    alice.type('EXIT PM');
    await bob.waitLine(/your partner alice left the private chat/);

    alice.type('/users');
    await alice.waitLine(/^online \(2\): alice, bob$/);

    alice.type('/group_name_add Study Group');
    await alice.waitLine(/group Study Group created/);
    alice.type('/group_person_add Study Group bob');
    await bob.waitLine(/group Study Group \(owner alice\): alice, bob/);
    alice.type('/group_message Study Group~exam on friday');
    await bob.waitLine(/\] group Study Group \| alice: exam on friday$/);
    bob.type('/groups_view');
    await bob.waitLine(/^group Study Group \(owner alice\): alice, bob$/);
    bob.type('/group_name_remove Study Group');
    await bob.waitLine(/only the owner of Study Group can change it/);

    alice.type('/search_message arkadaş');
    await alice.waitLine(/^1 result for "arkadaş"$/);
    alice.type('/search_person bob');
    await alice.waitLine(/results? for messages with bob$/);

    alice.type('/frobnicate');
    await alice.waitLine(/^! unknown command \/frobnicate; \/help lists them$/);
    alice.type('/help');
    await alice.waitLine(/\/group_message <group>~<text>/);

    bob.type('@PM alice');
    await alice.waitLine(/bob wants to chat privately with you/);
    alice.type('/decline bob');
    await bob.waitLine(/alice declined your chat request/);
    bob.type('alice~please');
    await bob.waitLine(/^! alice declined your chat request$/);

    alice.type('/quit');
    expect(await alice.waitExit()).toBe(0);
    bob.type('LOGOUT');
    await bob.waitLine(/^\*\*\* logged out$/);
    expect(await bob.waitExit()).toBe(0);
  });

  it('sends piped input and exits at the end of it', async () => {
    const { server } = await startHostCli();
    const listener = await chat(server, 'listener');
    const piped = Cli.run('chat', ['--server', server, '--user', 'piper', '--password', 'pw']);
    piped.child.stdin.end('first line\nsecond line\n');
    expect(await piped.waitExit()).toBe(0);
    await listener.waitLine(/room \| piper: first line$/);
    await listener.waitLine(/room \| piper: second line$/);
  });

  it('prints a clear error for a wrong password and when nothing is listening', async () => {
    const { server } = await startHostCli();
    const first = Cli.run('chat', ['--server', server, '--user', 'carol', '--password', 'right']);
    first.child.stdin.end();
    expect(await first.waitExit()).toBe(0);
    const wrong = Cli.run('chat', ['--server', server, '--user', 'carol', '--password', 'wrong']);
    expect(await wrong.waitExit()).toBe(1);
    expect(wrong.lines).toContain('! wrong password for carol');
    const nowhere = Cli.run('chat', ['--server', '127.0.0.1:1', '--user', 'carol', '--password', 'x']);
    expect(await nowhere.waitExit()).toBe(1);
    expect(nowhere.lines).toContain('! nothing is listening on 127.0.0.1:1');
  });
});

describe('terminal helpers', () => {
  it('parses host:port forms', () => {
    expect(parseServer('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseServer('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseServer('example')).toEqual({ host: 'example', port: 7171 });
    expect(() => parseServer('a:b:c')).toThrow();
  });

  it('neutralises terminal control sequences in received text', () => {
    expect(printable('red\u001b[31m\nline\u202e')).toBe('red\ufffd[31m ⏎ line\ufffd');
  });
});
