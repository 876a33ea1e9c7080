import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../testing/harness.js';
import { OutboxFile, SessionTokenFile, type TokenSealer } from './profile-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
function profile(): string {
  const dir = tempDir('lanchat-profile-');
  dirs.push(dir);
  return dir;
}

/** AES-256-GCM with a key of its own: what the OS keychain's key does for Electron's safeStorage. */
function aesSealer(key = randomBytes(32)): TokenSealer {
  return {
    seal(token) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      const bytes = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

const TOKEN = 'c2Vzc2lvbi10b2tlbi1mb3ItYm9i';

describe('saved session tokens', () => {
  it('are stored readable only by the user, as they are, without a sealer', () => {
    const dir = profile();
    new SessionTokenFile(dir).save('127.0.0.1:4000', 'bob', TOKEN);
    expect(statSync(join(dir, 'session.json')).mode & 0o777).toBe(0o600);
    expect(new SessionTokenFile(dir).tokenFor('127.0.0.1:4000', 'BOB')).toBe(TOKEN);
  });

  it('are encrypted with the sealer, never in clear in the file, and read back with the same key only', () => {
    const dir = profile();
    const sealer = aesSealer();
    new SessionTokenFile(dir, sealer).save('127.0.0.1:4000', 'bob', TOKEN);
    const text = readFileSync(join(dir, 'session.json'), 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(JSON.parse(text)['127.0.0.1:4000']).toEqual({ name: 'bob', sealed: expect.any(String) });
    expect(new SessionTokenFile(dir, sealer).tokenFor('127.0.0.1:4000', 'bob')).toBe(TOKEN);
    // Another user's key, or a shell without one (the browser shell): no token, so the password is asked for.
    expect(new SessionTokenFile(dir, aesSealer()).tokenFor('127.0.0.1:4000', 'bob')).toBeUndefined();
    expect(new SessionTokenFile(dir).tokenFor('127.0.0.1:4000', 'bob')).toBeUndefined();
  });

  it('keep a sealed token that a shell without the key cannot open when it saves another', () => {
    const dir = profile();
    const sealer = aesSealer();
    new SessionTokenFile(dir, sealer).save('127.0.0.1:4000', 'bob', TOKEN);
    new SessionTokenFile(dir).save('10.0.0.5:4000', 'bob', 'another-token');
    expect(new SessionTokenFile(dir, sealer).tokenFor('127.0.0.1:4000', 'bob')).toBe(TOKEN);
  });

  it('seal a token saved in clear before the next write', () => {
    const dir = profile();
    new SessionTokenFile(dir).save('127.0.0.1:4000', 'bob', TOKEN);
    const sealer = aesSealer();
    const file = new SessionTokenFile(dir, sealer);
    expect(file.tokenFor('127.0.0.1:4000', 'bob')).toBe(TOKEN);
    file.save('10.0.0.5:4000', 'bob', 'another-token');
    expect(readFileSync(join(dir, 'session.json'), 'utf8')).not.toContain(TOKEN);
    expect(new SessionTokenFile(dir, sealer).tokenFor('127.0.0.1:4000', 'bob')).toBe(TOKEN);
  });
});

describe('the messages to send kept in the profile', () => {
  it('are kept per server and account, in order, readable only by the user, and go once stored', () => {
    const dir = profile();
    const file = new OutboxFile(dir);
    const reply = { clientMsgId: 'm2', to: { kind: 'dm' as const, user: 'carol' }, text: 'and this', replyTo: 7 };
    file.add('127.0.0.1:4000', 'Bob', { clientMsgId: 'm1', to: { kind: 'room' }, text: 'first' });
    file.add('127.0.0.1:4000', 'bob', reply);
    file.add('10.0.0.5:4000', 'bob', { clientMsgId: 'm3', to: { kind: 'room' }, text: 'elsewhere' });
    file.add('127.0.0.1:4000', 'alice', { clientMsgId: 'm4', to: { kind: 'room' }, text: 'another account' });
    expect(statSync(join(dir, 'outbox.json')).mode & 0o777).toBe(0o600);

    const read = new OutboxFile(dir);
    expect(read.itemsFor('127.0.0.1:4000', 'BOB').map((item) => item.clientMsgId)).toEqual(['m1', 'm2']);
    expect(read.find('127.0.0.1:4000', 'bob', 'm2')).toEqual(reply);
    expect(read.remove('127.0.0.1:4000', 'bob', 'm1')).toBe(true);
    expect(read.remove('127.0.0.1:4000', 'bob', 'm1')).toBe(false);
    expect(new OutboxFile(dir).itemsFor('127.0.0.1:4000', 'bob').map((item) => item.clientMsgId)).toEqual(['m2']);
    expect(new OutboxFile(dir).itemsFor('10.0.0.5:4000', 'bob').map((item) => item.clientMsgId)).toEqual(['m3']);
  });

  it('lose only a damaged entry, and start empty from a damaged file', () => {
    const dir = profile();
    const path = join(dir, 'outbox.json');
    writeFileSync(path, JSON.stringify({ '127.0.0.1:4000': { bob: [{ clientMsgId: 'm1', to: { kind: 'nowhere' }, text: 'x' }, { clientMsgId: 'm2', to: { kind: 'room' }, text: 'kept' }] } }));
    expect(new OutboxFile(dir).itemsFor('127.0.0.1:4000', 'bob').map((item) => item.text)).toEqual(['kept']);
    writeFileSync(path, '{ not json');
    expect(new OutboxFile(dir).itemsFor('127.0.0.1:4000', 'bob')).toEqual([]);
  });
});
