import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { login } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

describe('handshake', () => {
  it('refuses another major protocol version with a clear error and closes', async () => {
    const peer = await room.raw();
    const response = await peer.request('hello', { protocol: '2.0' });
    expect(response).toMatchObject({ ok: false, error: { code: ErrorCode.PROTOCOL_VERSION } });
    const bye = await peer.waitFrame((f) => f.type === 'bye');
    expect(bye).toMatchObject({ error: { code: ErrorCode.PROTOCOL_VERSION } });
    await peer.waitClosed();
  });

  it('answers hello with the server limits', async () => {
    const peer = await room.raw();
    const response = await peer.request('hello', { protocol: PROTOCOL_VERSION });
    expect(response).toMatchObject({ ok: true, result: { protocol: PROTOCOL_VERSION, heartbeatMs: 20_000 } });
  });

  it('requires hello before anything and login before chat', async () => {
    const peer = await room.raw();
    expect(await peer.request('users')).toMatchObject({ ok: false, error: { code: ErrorCode.HELLO_REQUIRED } });
    await peer.hello();
    expect(await peer.request('users')).toMatchObject({ ok: false, error: { code: ErrorCode.NOT_LOGGED_IN } });
  });
});

describe('accounts', () => {
  it('registers on first login, then needs the same password; a wrong one can be retried', async () => {
    const alice = await room.user('alice', 'correct horse');
    expect(alice.session?.login.registered).toBe(true);
    alice.close();

    const peer = await room.raw();
    await peer.hello();
    const wrong = await peer.request('login', { name: 'ALICE', password: 'nope' });
    expect(wrong).toMatchObject({ ok: false, error: { code: ErrorCode.WRONG_PASSWORD } });
    const right = await peer.request('login', { name: 'ALICE', password: 'correct horse' });
    expect(right).toMatchObject({ ok: true, result: { name: 'alice', registered: false } });
  });

  it('refuses look-alike and invalid names', async () => {
    await room.user('alice');
    await expect(login(room.host, 'аlice')).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    await expect(login(room.host, 'a1ice')).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    await expect(login(room.host, 'bad\u202ename')).rejects.toMatchObject({ code: ErrorCode.NAME_INVALID });
    await expect(login(room.host, 'two words')).rejects.toMatchObject({ code: ErrorCode.NAME_INVALID });
  });

  it('stores passwords only as salted scrypt hashes: never in the database or the log', async () => {
    const password = 'PlainTextNeverStored-42';
    const alice = await room.user('alice', password);
    await alice.send({ kind: 'room' }, 'hello');
    alice.close();
    await room.stop();
    // The files folder holds only uploaded files.
    for (const file of readdirSync(room.dir, { withFileTypes: true }).filter((entry) => entry.isFile())) {
      expect(readFileSync(join(room.dir, file.name)).includes(password), file.name).toBe(false);
    }
    await room.start();
    await expect(login(room.host, 'alice', password)).resolves.toBeTruthy();
  });

  it('resumes with the session token and refuses it after logout', async () => {
    const alice = await room.user('alice');
    const token = alice.sessionToken!;
    const again = await login(room.host, 'alice', undefined, { password: undefined, token });
    room.track(again);
    await again.logout();
    await expect(login(room.host, 'alice', undefined, { password: undefined, token })).rejects.toMatchObject({
      code: ErrorCode.BAD_TOKEN,
    });
  });
});

