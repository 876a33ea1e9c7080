/**
 * What a hosted room says about itself in its DNS-SD TXT record (docs/PROTOCOL.md, "Finding rooms
 * on the network"). Pure: no sockets, so both directions are tested with plain objects.
 */
import { z } from 'zod';
import { ACCESS_MODES, type AccessMode } from '../../src-shared/protocol/limits.js';

/** The DNS-SD service type, without the leading underscore and protocol: `_lanchat._tcp`. */
export const SERVICE_TYPE = 'lanchat';
/** Version of the TXT layout below; a browser ignores records of a version it does not know. */
export const TXT_VERSION = '1';

export interface RoomTxt {
  roomName: string;
  /** The protocol version the host speaks, "major.minor". */
  protocol: string;
  tls: boolean;
  access: AccessMode;
  /** The room certificate's SHA-256 fingerprint; null without TLS. */
  fingerprint: string | null;
}

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

// Each TXT string is at most 255 bytes, key and "=" included (RFC 6763 §6.1).
const txtSchema = z.object({
  txtvers: z.literal(TXT_VERSION),
  room: z.string().min(1).refine((room) => Buffer.byteLength(room) <= 250, 'room name too long'),
  proto: z.string().regex(/^\d{1,5}\.\d{1,5}$/),
  tls: z.enum(['0', '1']),
  access: z.enum(ACCESS_MODES),
  fp: z.string().regex(FINGERPRINT).optional(),
});

export function encodeRoomTxt(room: RoomTxt): Record<string, string> {
  return {
    txtvers: TXT_VERSION,
    room: truncateBytes(room.roomName, 250),
    proto: room.protocol,
    tls: room.tls ? '1' : '0',
    access: room.access,
    ...(room.tls && room.fingerprint !== null ? { fp: room.fingerprint } : {}),
  };
}

/** The room a TXT record describes, or null when it is not one this app understands (or lacks a field TLS needs). */
export function decodeRoomTxt(txt: unknown): RoomTxt | null {
  if (typeof txt !== 'object' || txt === null) return null;
  // Keys are case-insensitive (RFC 6763 §6.4).
  const lowered = Object.fromEntries(Object.entries(txt).map(([key, value]) => [key.toLowerCase(), value]));
  const parsed = txtSchema.safeParse(lowered);
  if (!parsed.success) return null;
  const { room, proto, tls, access, fp } = parsed.data;
  if (tls === '1' && fp === undefined) return null;
  return { roomName: room, protocol: proto, tls: tls === '1', access, fingerprint: tls === '1' ? fp! : null };
}

function truncateBytes(text: string, maxBytes: number): string {
  let result = text;
  while (Buffer.byteLength(result) > maxBytes) result = Array.from(result).slice(0, -1).join('');
  return result;
}
