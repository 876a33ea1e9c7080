import { describe, expect, it } from 'vitest';
import { addressHost, normalizeAddress, roomLimits, throttleAddress } from './access.js';

describe('addresses and limits', () => {
  it('reduce connection addresses to the IP that bans store', () => {
    expect(addressHost('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(addressHost('[::1]:5000')).toBe('::1');
    expect(addressHost('[FE80::1]:80')).toBe('fe80::1');
    expect(normalizeAddress('::ffff:10.0.0.2')).toBe('10.0.0.2');
    expect(normalizeAddress('[::1]')).toBe('::1');
    expect(normalizeAddress('bob')).toBeUndefined();
  });

  it('count a whole IPv6 /64 as one address in every throttle', () => {
    expect(throttleAddress('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(throttleAddress('[2001:db8:0:1::1]:5000')).toBe('2001:db8:0:1::/64');
    expect(throttleAddress('[2001:db8:0:1:ffff:ffff:ffff:ffff]:1')).toBe('2001:db8:0:1::/64');
    expect(throttleAddress('[2001:0db8::2]:1')).toBe('2001:db8:0:0::/64');
    expect(throttleAddress('[::1]:1')).toBe('0:0:0:0::/64');
    expect(throttleAddress('[::ffff:10.0.0.2]:1')).toBe('10.0.0.2');
    expect(throttleAddress('[2001:db8:0:2::1]:1')).not.toBe(throttleAddress('[2001:db8:0:1::1]:1'));
  });

  it('refuse limits that are not whole numbers of at least 1 or above the protocol caps', () => {
    expect(() => roomLimits({ maxGroupMembers: 0 })).toThrow(/at least 1/);
    expect(() => roomLimits({ maxNameLength: 33 })).toThrow(/at most 32/);
    expect(roomLimits({ maxGroupsPerOwner: 3 }).maxGroupsPerOwner).toBe(3);
  });
});
