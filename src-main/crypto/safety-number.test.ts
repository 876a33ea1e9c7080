import { describe, expect, it } from 'vitest';
import { displayDigits, fingerprint, safetyNumber, sameCode } from './safety-number.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

// libsignal's test vector (rust/protocol/src/fingerprint.rs, and NumericFingerprintGeneratorTest in its Java and Swift
// bindings): two identity keys as libsignal serializes them (a 0x05 type byte and the X25519 key), phone numbers as
// the stable identifiers, 5200 iterations.
const ALICE = { stableId: utf8('+14152222222'), keys: [hex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868')] };
const BOB = { stableId: utf8('+14153333333'), keys: [hex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b')] };
const DISPLAYABLE = '300354477692869396892869876765458257569162576843440918079131';
const ALICE_SCANNABLE = '1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df';
const BOB_SCANNABLE = 'd62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d';

describe("safety numbers: libsignal's numeric fingerprint over all of a user's device keys", () => {
  it("reproduces libsignal's published vector: the 60 digits and each side's scannable 32 bytes", () => {
    expect(fingerprint(ALICE).subarray(0, 32).toString('hex')).toBe(ALICE_SCANNABLE);
    expect(fingerprint(BOB).subarray(0, 32).toString('hex')).toBe(BOB_SCANNABLE);
    const number = safetyNumber(ALICE, BOB);
    expect(number.digits.replaceAll(' ', '')).toBe(DISPLAYABLE);
    expect(number.digits).toMatch(/^\d{5}( \d{5}){11}$/);
    // The code carries the same two fingerprints in the digits' order: whose digits come first is whose bytes come first.
    const aliceFirst = displayDigits(fingerprint(ALICE)) < displayDigits(fingerprint(BOB));
    expect(number.code).toBe(`lanchat-safety-1:${aliceFirst ? ALICE_SCANNABLE + BOB_SCANNABLE : BOB_SCANNABLE + ALICE_SCANNABLE}`);
  });

  it('is the same from either side and in any order of the keys, and changes with any device added or removed', () => {
    const [k1, k2, k3, k4] = [1, 2, 3, 4].map((n) => Buffer.alloc(32, n));
    const alice = { stableId: utf8('1'), keys: [k1!, k2!] };
    const bob = { stableId: utf8('2'), keys: [k3!] };
    const number = safetyNumber(alice, bob, 10);
    expect(safetyNumber(bob, { ...alice, keys: [k2!, k1!] }, 10)).toEqual(number);
    expect(safetyNumber(alice, { ...bob, keys: [k3!, k4!] }, 10).digits).not.toBe(number.digits);
    expect(safetyNumber({ ...alice, keys: [k1!] }, bob, 10).digits).not.toBe(number.digits);
    // Who the key belongs to counts too: the same key under another user's id is another number.
    expect(safetyNumber(alice, { ...bob, stableId: utf8('3') }, 10).digits).not.toBe(number.digits);
    expect(() => safetyNumber({ ...alice, keys: [] }, bob, 10)).toThrow(/at least one key/);
  });

  it('compares a pasted code whatever its case and the spaces around it, and refuses any other', () => {
    const number = safetyNumber(ALICE, BOB, 10);
    expect(sameCode(number, `  ${number.code.toUpperCase()}\n`)).toBe(true);
    expect(sameCode(number, number.code.slice(0, -1) + (number.code.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(sameCode(number, number.digits)).toBe(false);
  });
});
