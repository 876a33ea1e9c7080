/**
 * Issue 36, item 5: the host's admin commands over HTTP (POST /admin on the admin port, a bearer token),
 * against a real host with real clients; and `lanchat-host admin`, the command line that sends them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { nextEvent, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { AdminApi } from './admin-api.js';
import { runAdminCli } from './admin-cli.js';
import { type AdminPort, HostMetrics, startAdminPort } from './admin-port.js';

const TOKEN = 'an-admin-token-of-forty-characters-long!';
const room = useRoom({ start: { access: { mode: 'approval' } } });

let port: AdminPort;
let url: string;

beforeEach(async () => {
  port = await startAdminPort(room.host, new HostMetrics(), 0, '127.0.0.1', new AdminApi(TOKEN, room.host.server.admin, room.host.log));
  url = `http://127.0.0.1:${port.address.port}`;
});
afterEach(() => port.close());

/** An answer of the admin API: what every answer has, and the fields of those the tests read. */
interface Answer {
  ok: boolean;
  lines: string[];
  error: { code: string; message: string };
  users: { name: string }[];
  pending: { name: string; createdAt: string }[];
  password: string;
  [field: string]: unknown;
}

/** One request to the admin API. */
async function call(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${url}/admin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

/** An account let in (approval mode) and logged in. */
async function member(name: string) {
  await expect(room.loginError(name)).resolves.toBe(ErrorCode.PENDING_APPROVAL);
  expect(await call({ command: 'approve', name })).toMatchObject({ status: 200, body: { ok: true, lines: [`approved ${name}`] } });
  return room.user(name);
}

const adminLines = () => room.logEvents().filter((entry) => entry.event === 'admin');

describe('the admin API', () => {
  it('refuses a request without the token or with another one (401), and does nothing', async () => {
    const bob = await member('bob');
    const before = adminLines().length;
    const kick = { command: 'kick', name: 'bob' };
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
      const answer = await call(kick, headers);
      expect(answer, JSON.stringify(headers)).toMatchObject({ status: 401, body: { ok: false, error: { code: 'UNAUTHORIZED' } } });
    }
    const raw = await fetch(`${url}/admin`, { method: 'POST', body: '{}' });
    expect(raw.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await raw.text();
    expect(bob.state).toBe('online');
    expect(room.host.server.admin.connections().map((user) => user.name)).toEqual(['bob']);
    expect(adminLines().length).toBe(before);
    expect(room.logEvents().filter((entry) => entry.event === 'admin request refused').map((entry) => entry.reason)).toEqual([
      'no token',
      'wrong token',
      'wrong token',
      'wrong token',
      'wrong token',
      'no token',
    ]);
  });

  it('answers a wrong request with what is wrong, and changes nothing', async () => {
    const bob = await member('bob');
    const before = adminLines().length;
    const wrong: [unknown, number, RegExp][] = [
      ['{"command": "kick", ', 400, /^not JSON/],
      [[], 400, /JSON object with a "command"/],
      [{ name: 'bob' }, 400, /"command" must be one of users, pending, approve, reject, kick, ban/],
      [{ command: 'frobnicate' }, 400, /"command" must be one of/],
      [{ command: 'kick' }, 400, /^kick: .*name/],
      [{ command: 'kick', name: '' }, 400, /^kick: .*name/],
      [{ command: 'kick', name: 'bob', extra: 1 }, 400, /^kick: .*extra/],
      [{ command: 'ban', name: 'bob', address: '10.0.0.1' }, 400, /^ban: .*either "name" or "address"/],
      [{ command: 'mute', name: 'bob', minutes: -5 }, 400, /^mute: .*minutes/],
      [{ command: 'purge', minutes: 'all' }, 400, /^purge: .*minutes/],
      [{ command: 'kick', name: 'nobody' }, 404, /no user named nobody/],
      [{ command: 'approve', name: 'bob' }, 409, /bob is not waiting for approval/],
      ['x'.repeat(20_000), 413, /larger than/],
    ];
    for (const [body, status, message] of wrong) {
      const answer = await call(body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(answer.body.ok).toBe(false);
      expect(answer.body.error.message).toMatch(message);
    }
    const text = await fetch(`${url}/admin`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'kick bob' });
    expect(text.status).toBe(415);
    await text.text();
    const get = await fetch(`${url}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    await get.text();
    expect(bob.state).toBe('online');
    expect(adminLines().length).toBe(before);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('runs each console command, and each one is seen by the clients and logged with who asked', async () => {
    const bob = await member('bob');
    const carol = await member('carol');
    const as = (operator: string) => ({ authorization: `Bearer ${TOKEN}`, 'x-lanchat-operator': operator });

    const users = await call({ command: 'users' });
    expect(users.body.users.map((user) => user.name)).toEqual(['bob', 'carol']);
    expect(users.body.lines[0]).toMatch(/^bob {2}127\.0\.0\.1:\d+ {2}lanchat-client/);

    const muted = nextEvent(bob, 'mute', (push) => push.muted);
    expect((await call({ command: 'mute', name: 'bob', minutes: 10 }, as('ops@desk'))).body.lines).toEqual(['muted bob for 10 min']);
    await muted;
    await expect(bob.send({ kind: 'room' }, 'hi')).rejects.toMatchObject({ code: ErrorCode.MUTED });
    const unmuted = nextEvent(bob, 'mute', (push) => !push.muted);
    expect((await call({ command: 'unmute', name: 'bob' })).body).toMatchObject({ removed: true, lines: ['unmuted bob'] });
    await unmuted;
    await bob.send({ kind: 'room' }, 'hi again');

    const kicked = nextEvent(bob, 'fatal');
    expect((await call({ command: 'kick', name: 'bob' }, as('ops@desk'))).body).toMatchObject({ ok: true, connections: 1 });
    expect((await kicked)[0].code).toBe(ErrorCode.KICKED);

    const reset = nextEvent(carol, 'fatal');
    const { body: resetAnswer } = await call({ command: 'reset', name: 'carol' });
    expect((await reset)[0].code).toBe(ErrorCode.PASSWORD_CHANGED);
    expect(await room.loginError('carol')).toBe(ErrorCode.WRONG_PASSWORD);
    (await room.user('carol', resetAnswer.password)).close();
    await call({ command: 'reset', name: 'carol', password: 'carol-secret' });

    const carolAgain = await room.user('carol');
    await carolAgain.send({ kind: 'room' }, 'carol writes, so is not silent');
    const banned = nextEvent(carolAgain, 'fatal');
    expect((await call({ command: 'ban', name: 'carol' })).body.lines).toEqual(['banned carol']);
    expect((await banned)[0].code).toBe(ErrorCode.BANNED);
    expect(await room.loginError('carol')).toBe(ErrorCode.BANNED);
    expect((await call({ command: 'ban', address: '10.1.2.3' })).status).toBe(200);
    expect((await call({ command: 'bans' })).body.bans).toEqual([
      { kind: 'address', value: '10.1.2.3' },
      { kind: 'name', value: 'carol' },
    ]);
    expect((await call({ command: 'unban', name: 'carol' })).body).toMatchObject({ removed: true });
    expect((await call({ command: 'unban', address: '10.1.2.3' })).body).toMatchObject({ removed: true });
    expect(await room.loginError('carol')).toBe('no error');

    await expect(room.loginError('dave')).resolves.toBe(ErrorCode.PENDING_APPROVAL);
    expect((await call({ command: 'pending' })).body.pending).toEqual([{ name: 'dave', createdAt: expect.any(String) }]);
    expect((await call({ command: 'reject', name: 'dave' })).body.lines).toEqual(['rejected dave']);
    await expect(room.loginError('erin')).resolves.toBe(ErrorCode.PENDING_APPROVAL);
    expect((await call({ command: 'silent' })).body).toMatchObject({ count: 1, accounts: [{ name: 'erin' }] });
    expect((await call({ command: 'purge', minutes: 0 })).body).toMatchObject({ purged: 1 });
    expect((await call({ command: 'pending' })).body.pending).toEqual([]);

    const requests = room.logEvents().filter((entry) => entry.event === 'admin request');
    expect(requests.find((entry) => entry.command === 'kick')).toMatchObject({ from: '127.0.0.1', operator: 'ops@desk', name: 'bob', outcome: 'done' });
    // A password given is never written to the log.
    expect(requests.filter((entry) => entry.command === 'reset').map((entry) => entry.password)).toEqual([undefined, '(given)']);
    expect(room.logText()).not.toContain('carol-secret');
    expect(adminLines().map((entry) => entry.action)).toContain('purge silent accounts');
  });
});

describe('lanchat-host admin', () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runAdminCli(args, { env, print: (line) => out.push(line), printError: (line) => err.push(line) });
    return { status, out, err };
  };

  it('sends a command to the host named by its config file, with the token from a file', async () => {
    const bob = await member('bob');
    const tokenFile = join(room.dir, 'admin-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const config = join(room.dir, 'lanchat.yaml');
    writeFileSync(config, [`admin-port: ${port.address.port}`, 'admin-bind: 127.0.0.1', `admin-token: { file: ${tokenFile} }`].join('\n'));
    expect(await run(['--config', config, 'users'])).toMatchObject({ status: 0, out: [expect.stringMatching(/^bob {2}127\.0\.0\.1/)] });

    const kicked = nextEvent(bob, 'fatal');
    expect(await run(['--url', url, 'kick', 'bob'], { LANCHAT_ADMIN_TOKEN_FILE: tokenFile })).toEqual({ status: 0, out: ['kicked bob (1 connections)'], err: [] });
    expect((await kicked)[0].code).toBe(ErrorCode.KICKED);
    const json = await run(['--json', 'bans'], { LANCHAT_ADMIN_URL: url, LANCHAT_ADMIN_TOKEN: TOKEN });
    expect(JSON.parse(json.out.join('\n'))).toEqual({ ok: true, bans: [], lines: ['no bans'] });

    expect(await run(['--url', url, 'kick', 'nobody'], { LANCHAT_ADMIN_TOKEN: TOKEN })).toMatchObject({ status: 1, err: ['error: no user named nobody'] });
    expect(await run(['--url', url, 'kick', 'bob'], { LANCHAT_ADMIN_TOKEN: 'not-the-token' })).toMatchObject({ status: 1, err: [expect.stringMatching(/missing or wrong admin token/)] });
    expect((await run(['--url', url, 'kick'], { LANCHAT_ADMIN_TOKEN: TOKEN })).err[0]).toMatch(/^error: usage: \/kick <name>/);
    expect((await run(['--url', url, 'kick', 'bob'])).status).toBe(2);
    expect((await run(['--url', 'http://127.0.0.1:1', 'users'], { LANCHAT_ADMIN_TOKEN: TOKEN })).err[0]).toMatch(/cannot reach the admin API/);
    expect((await run(['--help'])).out[0]).toMatch(/^usage: lanchat-host admin/);
    writeFileSync(config, 'admin-port: 0\n');
    expect((await run(['--config', config, 'users'], { LANCHAT_ADMIN_TOKEN: TOKEN })).err[0]).toMatch(/admin-port is 0 \(any free port\): give --url/);
    await waitFor(() => room.logEvents().some((entry) => entry.event === 'admin request' && entry.operator !== '(not said)'));
  });

  it('answers settings only for a host lanchat-host started (whose settings it holds)', async () => {
    expect(await call({ command: 'settings' })).toMatchObject({ status: 400, body: { ok: false, error: { code: ErrorCode.BAD_REQUEST, message: expect.stringMatching(/not started by lanchat-host/) } } });
  });

  it('is off without a token: POST /admin is 404, health and metrics stay', async () => {
    const plain = await startAdminPort(room.host, new HostMetrics(), 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${plain.address.port}`;
      const answer = await fetch(`${base}/admin`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"command":"users"}' });
      expect(answer.status).toBe(404);
      expect(await answer.text()).toMatch(/admin API is off/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
