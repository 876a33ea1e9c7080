import { describe, expect, it } from 'vitest';
import { addressWithoutPort, checkNewPassword, splitAddress, hostAccess, joinPassphrase, userActions } from './access.js';

describe('access forms', () => {
  it('sends a passphrase only with the passphrase mode, and needs one there', () => {
    expect(hostAccess('saved', 'ignored')).toEqual({ ok: true, fields: {} });
    expect(hostAccess('open', 'ignored')).toEqual({ ok: true, fields: { access: 'open' } });
    expect(hostAccess('approval', '')).toEqual({ ok: true, fields: { access: 'approval' } });
    expect(hostAccess('passphrase', '  ')).toEqual({ ok: false, problem: 'passphraseMissing' });
    expect(hostAccess('passphrase', 'sesame')).toEqual({ ok: true, fields: { access: 'passphrase', passphrase: 'sesame' } });
    expect(joinPassphrase('')).toEqual({});
    expect(joinPassphrase('sesame')).toEqual({ passphrase: 'sesame' });
  });

  it('checks a new password against its repetition', () => {
    expect(checkNewPassword('', '')).toBe('passwordEmpty');
    expect(checkNewPassword('abc', 'abd')).toBe('passwordsDiffer');
    expect(checkNewPassword('abc', 'abc')).toBeNull();
  });

  it('drops the port from connection addresses of both families', () => {
    expect(addressWithoutPort('10.0.0.2:5000')).toBe('10.0.0.2');
    expect(addressWithoutPort('[fe80::1]:5000')).toBe('fe80::1');
    expect(addressWithoutPort('::1')).toBe('::1');
    expect(addressWithoutPort('unknown')).toBe('unknown');
  });

  it('takes a copied address apart into host and port, for both families', () => {
    expect(splitAddress('192.168.1.20:7171')).toEqual({ host: '192.168.1.20', port: 7171 });
    expect(splitAddress('[fe80::1%eth0]:7171')).toEqual({ host: 'fe80::1%eth0', port: 7171 });
    expect(splitAddress('chat.lan:5000')).toEqual({ host: 'chat.lan', port: 5000 });
    for (const text of ['192.168.1.20', 'fe80::1', '::1:7171', 'host:99999', 'host:', 'a b:1', '[::1]']) expect(splitAddress(text)).toBeNull();
  });

  it('offers mute or unmute as the user is muted or not', () => {
    expect(userActions('bob', false).map((entry) => entry.key)).toEqual(['kick', 'ban', 'mute']);
    expect(userActions('bob', true)).toContainEqual({ key: 'unmute', action: { kind: 'unmute', user: 'bob' } });
  });
});
