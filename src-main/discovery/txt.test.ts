import { describe, expect, it } from 'vitest';
import { type RoomTxt, decodeRoomTxt, encodeRoomTxt } from './txt.js';

const FP = Array.from({ length: 32 }, (_, index) => index.toString(16).padStart(2, '0').toUpperCase()).join(':');
const room: RoomTxt = { roomName: 'Lab 3 · Çay', protocol: '1.0', tls: true, access: 'passphrase', fingerprint: FP };

describe('room TXT records', () => {
  it('encode to the documented keys and decode back', () => {
    expect(encodeRoomTxt(room)).toEqual({ txtvers: '1', room: 'Lab 3 · Çay', proto: '1.0', tls: '1', access: 'passphrase', fp: FP });
    expect(decodeRoomTxt(encodeRoomTxt(room))).toEqual(room);
  });

  it('leave the fingerprint out without TLS', () => {
    const plain = { ...room, tls: false, fingerprint: null };
    expect(encodeRoomTxt(plain)).not.toHaveProperty('fp');
    expect(decodeRoomTxt(encodeRoomTxt(plain))).toEqual(plain);
    expect(decodeRoomTxt({ ...encodeRoomTxt(plain), fp: FP })).toEqual(plain);
  });

  it('cut a long room name to fit one TXT string, on a character boundary', () => {
    const encoded = encodeRoomTxt({ ...room, roomName: '🙂'.repeat(100) });
    expect(Buffer.byteLength(`room=${encoded.room}`)).toBeLessThanOrEqual(255);
    expect(encoded.room).toBe('🙂'.repeat(62));
  });

  it('read keys in any case and ignore keys it does not know', () => {
    expect(decodeRoomTxt({ TXTVERS: '1', Room: 'Lab', PROTO: '1.0', Tls: '1', access: 'open', FP, extra: 'x' })).toEqual({
      roomName: 'Lab',
      protocol: '1.0',
      tls: true,
      access: 'open',
      fingerprint: FP,
    });
  });

  it.each([
    ['another TXT version', { txtvers: '2' }],
    ['no room name', { room: '' }],
    ['an unknown access mode', { access: 'secret' }],
    ['a malformed protocol version', { proto: 'one' }],
    ['TLS without a fingerprint', { fp: undefined }],
    ['a malformed fingerprint', { fp: FP.toLowerCase() }],
    ['tls neither 0 nor 1', { tls: 'yes' }],
  ])('refuse a record with %s', (_, change) => {
    const txt = Object.fromEntries(Object.entries({ ...encodeRoomTxt(room), ...change }).filter(([, value]) => value !== undefined));
    expect(decodeRoomTxt(txt)).toBeNull();
  });

  it('refuse what is not a record', () => {
    expect(decodeRoomTxt(null)).toBeNull();
    expect(decodeRoomTxt('room=Lab')).toBeNull();
  });
});
