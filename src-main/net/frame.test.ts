import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from './frame.js';

const samples = [
  { type: 'hello', id: 1, protocol: '1.0' },
  { type: 'send', id: 2, clientMsgId: 'a', to: { kind: 'room' }, text: 'Merhaba dünya, İstanbul 👋' },
  { type: 'ping' },
];

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]) {
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

describe('frame codec', () => {
  it('writes a 4-byte big-endian length then UTF-8 JSON', () => {
    const frame = encodeFrame({ a: 'ü' });
    expect(frame.readUInt32BE(0)).toBe(Buffer.byteLength('{"a":"ü"}'));
    expect(frame.subarray(4).toString('utf8')).toBe('{"a":"ü"}');
  });

  it('decodes frames split at every possible byte boundary', () => {
    const stream = Buffer.concat(samples.map((s) => encodeFrame(s)));
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const second of [cut, Math.min(stream.length, cut + 3)]) {
        const decoder = new FrameDecoder(1024);
        const parts = [stream.subarray(0, cut), stream.subarray(cut, second), stream.subarray(second)];
        const frames = decodeAll(decoder, parts);
        expect(frames.map((f) => (f.kind === 'frame' ? f.value : f))).toEqual(samples);
        expect(decoder.bufferedBytes).toBe(0);
      }
    }
  });

  it('decodes a stream fed one byte at a time and coalesced in one chunk', () => {
    const stream = Buffer.concat(samples.map((s) => encodeFrame(s)));
    const bytewise = decodeAll(new FrameDecoder(1024), [...stream].map((b) => Buffer.from([b])));
    const whole = decodeAll(new FrameDecoder(1024), [stream]);
    expect(bytewise).toEqual(whole);
    expect(whole).toHaveLength(samples.length);
  });

  it('refuses a declared length over the limit from the header alone', () => {
    const decoder = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101);
    expect(decoder.push(header)).toEqual([{ kind: 'oversize', declared: 101 }]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(Buffer.alloc(50))).toEqual([]);
  });

  it('refuses a zero length', () => {
    expect(new FrameDecoder(100).push(Buffer.alloc(4))).toEqual([{ kind: 'oversize', declared: 0 }]);
  });

  it('reports invalid UTF-8 and invalid JSON and keeps decoding after them', () => {
    const badUtf8 = Buffer.from([0, 0, 0, 2, 0xc3, 0x28]);
    const badJson = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x:')]);
    const frames = new FrameDecoder(100).push(Buffer.concat([badUtf8, badJson, encodeFrame({ ok: 1 })]));
    expect(frames).toEqual([
      { kind: 'invalid', reason: 'payload is not valid UTF-8' },
      { kind: 'invalid', reason: 'payload is not valid JSON' },
      { kind: 'frame', value: { ok: 1 } },
    ]);
  });

  it('treats text that looks like HTTP as an oversize header', () => {
    const [frame] = new FrameDecoder(1024 * 1024).push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(frame?.kind).toBe('oversize');
  });
});
