import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { serverLimits } from '../../../src-shared/protocol/requests.js';
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

  it('answers hello with every limit in force, as the host set them (issue 10 item 23)', async () => {
    await room.restart({
      heartbeatTimeoutMs: 15_000,
      authTimeoutMs: 25_000,
      maxFrameBytes: 65_536,
      maxUserBytesPerDay: 1_000_000,
      rateLimits: { framesPerSecond: Infinity, bytesPerSecond: 2048, byteBurst: 4096 },
      throttle: { freeFailures: 3, baseDelayMs: 500, maxDelayMs: 60_000 },
      limits: { maxNameLength: 20, maxGroupMembers: 8, loginsPerMinute: 12, registrationsPerMinute: 60, addressRegistrationsPerMinute: 6, changesPerMinute: 90, maxVideoCallParticipants: 4, callRingMs: 20_000 },
      files: { limits: { maxFileBytes: 5_000_000 } },
    });
    const peer = await room.raw();
    const response = await peer.request('hello', { protocol: PROTOCOL_VERSION });
    expect(response).toMatchObject({
      ok: true,
      result: { protocol: '1.2', heartbeatMs: 15_000, maxFrameBytes: 65_536, maxTextLength: 8000, features: expect.arrayContaining(['edit']) },
    });
    const { limits } = (response as unknown as { result: { limits: Record<string, unknown> } }).result;
    expect(limits).toEqual({
      maxFrameBytes: 65_536,
      maxQueuedBytes: 8 * 1024 * 1024,
      maxTextLength: 8000,
      maxClientMsgIdLength: 64,
      maxNameLength: 20,
      maxGroupNameLength: 48,
      maxPasswordLength: 256,
      maxPassphraseLength: 256,
      maxSearchLength: 200,
      maxPageSize: 200,
      defaultPageSize: 50,
      maxGroupsPerOwner: 20,
      maxGroupMembers: 8,
      maxPendingAccounts: 50,
      maxUserBytesPerDay: 1_000_000,
      heartbeatMs: 15_000,
      loginTimeoutMs: 25_000,
      frameTimeoutMs: 30_000,
      maxBadFrames: 10,
      expensiveRequestsPerUser: 2,
      freeLoginFailures: 3,
      loginDelayMs: 500,
      maxLoginDelayMs: 60_000,
      frameRate: null,
      byteRate: { perSecond: 2048, burst: 4096 },
      accountLoginRate: { perMinute: 12, burst: 12 },
      registrationRate: { perMinute: 60, burst: 60 },
      addressRegistrationRate: { perMinute: 6, burst: 6 },
      editWindowMs: null,
      typingIntervalMs: 3000,
      maxReactionsPerUser: 20,
      changeRate: { perMinute: 90, burst: 90 },
      maxFileBytes: 5_000_000,
      maxFileStorageBytes: 10 * 1024 ** 3,
      maxFileBytesPerDay: 2 * 1024 ** 3,
      maxTransfersPerUser: 16,
      maxUnfinishedUploadsPerUser: 20,
      maxUnfinishedBytesPerUser: 1024 ** 3,
      maxCallParticipants: 8,
      maxVideoCallParticipants: 4,
      callRingMs: 20_000,
      callReconnectGraceMs: 30_000,
      callSignalRate: { perSecond: 50, burst: 200 },
    });
  });

  it('names every announced limit in the limits table of PROTOCOL.md §15', () => {
    const protocol = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    const table = protocol.slice(protocol.indexOf('## 15 Limits'), protocol.indexOf('## 16 '));
    const documented = [...table.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(serverLimits.shape).sort());
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

