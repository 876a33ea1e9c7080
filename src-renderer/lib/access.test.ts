import { describe, expect, it } from 'vitest';
import { addressWithoutPort, checkNewPassword, hostAccess, joinPassphrase, userActions } from './access.js';

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

  it('offers mute or unmute as the user is muted or not', () => {
    expect(userActions('bob', false).map((entry) => entry.key)).toEqual(['kick', 'ban', 'mute']);
    expect(userActions('bob', true)).toContainEqual({ key: 'unmute', action: { kind: 'unmute', user: 'bob' } });
  });
});
