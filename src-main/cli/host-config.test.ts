/** The host's settings from a config file, the environment and flags (host-config.ts over host-args.ts's table). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostArgs } from './host-args.js';
import { printSettings } from './host-config.js';

const dir = mkdtempSync(join(tmpdir(), 'lanchat-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function parsed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const commandLine = parseHostArgs(args, env);
  if (commandLine.help) throw new Error('expected settings');
  return commandLine;
}

describe('host settings', () => {
  const passphraseFile = file('passphrase', 'open sesame\n');
  const config = file(
    'lanchat.yaml',
    [
      '# a node of the room',
      `data: ${join(dir, 'data')}`,
      'port: 7272',
      'room: Office',
      'no-announce: true',
      'access: passphrase',
      `passphrase: { file: ${passphraseFile} }`,
      'max-name: 24',
      'postgres: postgres://lanchat:hunter2@db.example:5432/lanchat',
      'nats: [nats://n1:4222, nats://n2:4222]',
      'admin-port: 9180',
    ].join('\n'),
  );

  it('reads every setting from the config file, secrets from their files', () => {
    const { options, service } = parsed(['--config', config]);
    expect(options).toMatchObject({
      dataDir: resolve(dir, 'data'),
      port: 7272,
      roomName: 'Office',
      announce: false,
      access: { mode: 'passphrase', passphrase: 'open sesame' },
      limits: { maxNameLength: 24 },
      cluster: { postgres: 'postgres://lanchat:hunter2@db.example:5432/lanchat', nats: ['nats://n1:4222', 'nats://n2:4222'] },
    });
    expect(service).toEqual({ adminPort: 9180, adminBind: '127.0.0.1', drainMs: 10_000, adminToken: null });
    expect(options.logRotation).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 5 });
  });

  it('takes the admin token from a file, masks it when printed, and refuses a short one or one without an admin port', () => {
    const token = 'k7Qm2vXr9pLs4tWz8yBn3cDf6gHj1aE5oU0iRtYe';
    const env = { LANCHAT_ADMIN_TOKEN_FILE: file('admin-token', `${token}\n`) };
    const { service, settings, options } = parsed(['--config', config, '--log-max-bytes', 'off', '--log-keep', '2'], env);
    expect(service.adminToken).toBe(token);
    expect(options.logRotation).toEqual({ maxBytes: Infinity, keep: 2 });
    expect(printSettings(settings)).toContain('admin-token: "********"  # LANCHAT_ADMIN_TOKEN_FILE');
    expect(printSettings(parsed(['--config', config, '--admin-token', token]).settings)).not.toContain(token);
    expect(() => parseHostArgs(['--config', config, '--admin-token', 'short'])).toThrow('--admin-token must be at least 32 characters');
    expect(() => parseHostArgs(['--data', dir, '--admin-token', token])).toThrow('--admin-token needs --admin-port');
  });

  it('lets the environment override the file and a flag override both (LANCHAT_CONFIG names the file)', () => {
    const env = { LANCHAT_CONFIG: config, LANCHAT_PORT: '7373', LANCHAT_MAX_NAME: '30', LANCHAT_NO_ANNOUNCE: 'false', LANCHAT_ROOM_FILE: file('room', 'Lab\n') };
    const { options, settings } = parsed(['--max-name', '40'], env);
    expect(options).toMatchObject({ port: 7373, limits: { maxNameLength: 40 }, announce: true, roomName: 'Lab' });
    expect(settings.get('port')?.source).toBe('LANCHAT_PORT');
    expect(settings.get('max-name')?.source).toBe('--max-name');
    expect(settings.get('data')?.source).toBe(`${config} line 2`);
    expect(parsed(['--data', dir], { LANCHAT_POSTGRES_URL: 'postgres://x/y' }).options.cluster).toEqual({ postgres: 'postgres://x/y' });
  });

  it('prints the effective settings with each source and the secrets masked', () => {
    const { settings, printConfig } = parsed(['--config', config, '--print-config'], { LANCHAT_BIND: '127.0.0.1' });
    expect(printConfig).toBe(true);
    const printed = printSettings(settings);
    expect(printed).not.toContain('open sesame');
    expect(printed).not.toContain('hunter2');
    expect(printed.split('\n')).toEqual(
      expect.arrayContaining([
        'port: 7272  # ' + `${config} line 3`,
        'bind: 127.0.0.1  # LANCHAT_BIND',
        'heartbeat: 20  # default',
        `passphrase: "********"  # ${config} line 7`,
        `postgres: postgres://lanchat:********@db.example:5432/lanchat  # ${config} line 9`,
      ]),
    );
  });

  it('names the line of a wrong setting, and where any wrong value came from', () => {
    const refusals: [string, string][] = [
      ['port: 7171\nmax-nmae: 3\n', 'bad.yaml line 2: no setting "max-nmae"'],
      ['port: 7171\nno-tls: maybe\n', 'bad.yaml line 2: no-tls: '],
      ['port: [7171\n', 'bad.yaml: '],
      ['- port\n', 'bad.yaml: the file must hold "setting: value" lines'],
      ['data: /x\nmax-groups: 0\n', '--max-groups must be a whole number of at least 1 (set by '],
      ['data: /x\npassphrase: { file: /nonexistent/secret }\n', 'line 2: cannot read /nonexistent/secret: ENOENT'],
    ];
    for (const [text, reason] of refusals) {
      const path = file('bad.yaml', text);
      expect(() => parseHostArgs(['--config', path]), text).toThrow(reason.replace('bad.yaml', path));
    }
    expect(() => parseHostArgs(['--data', dir], { LANCHAT_MAX_GROUPS: '-1' })).toThrow('(set by LANCHAT_MAX_GROUPS)');
    expect(() => parseHostArgs(['--data', dir], { LANCHAT_NO_TLS: 'sometimes' })).toThrow('LANCHAT_NO_TLS must be true or false');
    expect(() => parseHostArgs(['--config', join(dir, 'missing.yaml')])).toThrow('cannot read the config file');
  });
});
