/**
 * Safety numbers (issue 35, docs/SECURITY.md "Verification"): Signal's numeric fingerprint, as
 * libsignal's NumericFingerprintGenerator computes it for a list of identity keys, over the
 * signature keys of all of a user's devices. Nothing here is new cryptography: the construction,
 * its iteration count and its display are libsignal's, and its published test vector is checked
 * in safety-number.test.ts.
 *
 * For each user: `hash = SHA-512(0x0000 ‖ keys ‖ id)`, then 5200 times `hash = SHA-512(hash ‖ keys)`,
 * where `keys` is the concatenation of the user's public keys sorted byte-wise and `id` the user's
 * stable identifier. Its first 30 bytes, in six 5-byte big-endian numbers each taken modulo 100000,
 * are the user's 30 digits; the safety number is the two users' digits, the smaller first, so both
 * see the same 60.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** libsignal's FINGERPRINT_VERSION (the 2 bytes that open the hash) and its iteration count. */
const HASH_VERSION = 0;
export const ITERATIONS = 5200;
/** What the pasteable code starts with: its format's version, so a later one can be told apart. */
const CODE_PREFIX = 'lanchat-safety-1:';
/** Bytes of each user's fingerprint in the code, as in libsignal's scannable fingerprint. */
const CODE_BYTES = 32;

export interface FingerprintInput {
  /** The user's stable identifier: in LanChat the UTF-8 of the user's id in decimal, as credentials name it. */
  readonly stableId: Uint8Array;
  /** The public keys of all of the user's devices, in any order. */
  readonly keys: readonly Uint8Array[];
}

export interface SafetyNumber {
  /** 60 digits in 12 groups of 5, separated by single spaces: what two people read to each other. */
  readonly digits: string;
  /** The same comparison as text to scan (a QR code) or paste: `lanchat-safety-1:` and 128 hex digits. */
  readonly code: string;
}

/** Fingerprints computed lately, by their inputs: 5200 hashes take tens of milliseconds, and a screen asks again and again. */
const computed = new Map<string, Buffer>();
const CACHED = 256;

/** One user's 64-byte fingerprint (libsignal's getFingerprint over a list of keys). */
export function fingerprint(input: FingerprintInput, iterations = ITERATIONS): Buffer {
  if (input.keys.length === 0) throw new Error('a fingerprint needs at least one key');
  const keys = Buffer.concat([...input.keys].map((key) => Buffer.from(key)).sort(Buffer.compare));
  const cacheKey = `${iterations}:${Buffer.from(input.stableId).toString('hex')}:${keys.toString('hex')}`;
  const cached = computed.get(cacheKey);
  if (cached !== undefined) return cached;
  const version = Buffer.alloc(2);
  version.writeUInt16BE(HASH_VERSION);
  let hash = Buffer.concat([version, keys, input.stableId]);
  for (let i = 0; i < iterations; i++) hash = createHash('sha512').update(hash).update(keys).digest();
  if (computed.size >= CACHED) computed.delete(computed.keys().next().value!);
  computed.set(cacheKey, hash);
  return hash;
}

/** A fingerprint's 30 digits: its first 30 bytes as six 40-bit big-endian numbers, each modulo 100000. */
export function displayDigits(fingerprint: Uint8Array): string {
  let digits = '';
  for (let offset = 0; offset < 30; offset += 5) {
    const chunk = Buffer.from(fingerprint.subarray(offset, offset + 5)).readUIntBE(0, 5);
    digits += String(chunk % 100_000).padStart(5, '0');
  }
  return digits;
}

/** The safety number of two users: the same whichever of them computes it. */
export function safetyNumber(a: FingerprintInput, b: FingerprintInput, iterations = ITERATIONS): SafetyNumber {
  const sides = [fingerprint(a, iterations), fingerprint(b, iterations)]
    .map((print) => ({ print, digits: displayDigits(print) }))
    .sort((x, y) => (x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : Buffer.compare(x.print, y.print)));
  const all = sides.map((side) => side.digits).join('');
  return {
    digits: all.match(/\d{5}/g)!.join(' '),
    code: CODE_PREFIX + Buffer.concat(sides.map((side) => side.print.subarray(0, CODE_BYTES))).toString('hex'),
  };
}

/** Whether a code scanned or pasted is this safety number's (letter case and spaces around it ignored). */
export function sameCode(number: SafetyNumber, code: string): boolean {
  const given = Buffer.from(code.trim().toLowerCase());
  const ours = Buffer.from(number.code);
  return given.length === ours.length && timingSafeEqual(given, ours);
}
