/**
 * Framing: every frame is a 4-byte unsigned big-endian payload length followed by
 * that many bytes of UTF-8 JSON. The decoder is a small state machine fed chunks
 * split or coalesced in any way; it checks the declared length against the limit
 * before buffering a single payload byte.
 */

export const HEADER_BYTES = 4;

export type DecodedFrame =
  | { kind: 'frame'; value: unknown }
  /** The payload was not UTF-8 JSON; framing is intact, the next frame can be read. */
  | { kind: 'invalid'; reason: string }
  /** Declared length is zero or above the limit; the stream cannot be trusted any more. */
  | { kind: 'oversize'; declared: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Serialises a value into one frame. Broadcasts call this once and share the Buffer. */
export function encodeFrame(value: unknown): Buffer {
  const json = JSON.stringify(value);
  const length = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, HEADER_BYTES, 'utf8');
  return frame;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being read, or -1 while reading a header. */
  private expected = -1;
  private failed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds a chunk; returns every frame it completes, in order. After an 'oversize' nothing more is decoded. */
  push(chunk: Buffer): DecodedFrame[] {
    if (this.failed) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: DecodedFrame[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < HEADER_BYTES) break;
        const declared = this.take(HEADER_BYTES).readUInt32BE(0);
        if (declared === 0 || declared > this.maxFrameBytes) {
          this.failed = true;
          this.chunks = [];
          this.buffered = 0;
          out.push({ kind: 'oversize', declared });
          break;
        }
        this.expected = declared;
      }
      if (this.buffered < this.expected) break;
      const payload = this.take(this.expected);
      this.expected = -1;
      out.push(decodePayload(payload));
    }
    return out;
  }

  /** Removes and returns the first n buffered bytes (n ≤ buffered). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0]!;
      const need = n - offset;
      if (chunk.length <= need) {
        chunk.copy(out, offset);
        offset += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, offset, 0, need);
        this.chunks[0] = chunk.subarray(need);
        offset += need;
      }
    }
    return out;
  }
}

function decodePayload(payload: Buffer): DecodedFrame {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: 'invalid', reason: 'payload is not valid UTF-8' };
  }
  try {
    return { kind: 'frame', value: JSON.parse(text) };
  } catch {
    return { kind: 'invalid', reason: 'payload is not valid JSON' };
  }
}
