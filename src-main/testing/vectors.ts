/**
 * Protocol test vectors: transcripts of frames in and frames out, written in Markdown
 * (docs/PROTOCOL.md itself and docs/vectors/*.md) and played against a real host over a
 * real socket. The format is described in docs/vectors/README.md.
 */
import { expect } from 'vitest';
import type { HostOptions } from '../core/host.js';
import { type RawPeer, waitFor } from './harness.js';
import type { Room } from './room.js';

export interface VectorOptions {
  /** Host options for this transcript's room (test defaults otherwise). */
  host?: Partial<HostOptions>;
  /** Users logged in before the transcript starts; a `message` push from one of them is sent by them. */
  online?: string[];
  /** Users who log in, one after the other, when the transcript first expects a `presence` push. */
  joining?: string[];
  /** Object keys whose values vary from run to run wherever they appear in server frames (as if written "<*>"). */
  any?: string[];
}

type Line =
  | { from: 'new connection' }
  | { from: 'client'; text: string; hex: number[] }
  | { from: 'server'; text: string; hex: number[] }
  | { from: 'server'; closes: true };

export interface Vector {
  /** Where it is written: the file, its place there and the heading above it. */
  title: string;
  options: VectorOptions;
  lines: { line: Line; source: string }[];
}

const MARKER = /<!--\s*vector\b([\s\S]*?)-->\s*```[^\n]*\n([\s\S]*?)```/g;
const HEX_BYTE = /^[0-9a-f]{2}$/i;
const PLACEHOLDER = /^<([^<>]+)>$/;

/** Every transcript in a Markdown file: a fenced block right after a `<!-- vector {options} -->` comment. */
export function vectorsIn(markdown: string, file: string): Vector[] {
  return [...markdown.matchAll(MARKER)].map((match, index) => {
    const before = markdown.slice(0, match.index).replace(/```[\s\S]*?```/g, '');
    const heading = [...before.matchAll(/^#+ (.*)$/gm)].at(-1)?.[1] ?? '';
    const options = match[1]!.trim() ? (JSON.parse(match[1]!) as VectorOptions) : {};
    const lines = match[2]!
      .split('\n')
      .map((source) => source.trim())
      .filter((source) => source !== '' && !source.startsWith('#'))
      .map((source) => ({ line: parseLine(source), source }));
    return { title: `${file} #${index + 1} (${heading})`, options, lines };
  });
}

function parseLine(source: string): Line {
  if (source === '---') return { from: 'new connection' };
  const direction = source.slice(0, 3);
  if (direction !== 'C→S' && direction !== 'S→C') throw new Error(`a vector line starts with C→S or S→C: ${source}`);
  const words = source.slice(3).trim().split(' ');
  const hex: number[] = [];
  while (words.length > 0 && HEX_BYTE.test(words[0]!)) hex.push(parseInt(words.shift()!, 16));
  const text = words.join(' ');
  if (direction === 'S→C') return text === 'closes' ? { from: 'server', closes: true } : { from: 'server', text, hex };
  return { from: 'client', text, hex };
}

/** The bytes a client line sends: its hex bytes then its text as written, or, with no hex, the text behind its length. */
function clientBytes(line: { text: string; hex: number[] }, bound: Map<string, unknown>): Buffer {
  const text = line.text.replace(/"<([^<>*]+)>"/g, (_, name: string) => {
    if (!bound.has(name)) throw new Error(`<${name}> is used before a server frame gave it a value`);
    return JSON.stringify(bound.get(name));
  });
  const payload = Buffer.from(text, 'utf8');
  if (line.hex.length > 0) return Buffer.concat([Buffer.from(line.hex), payload]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/**
 * The actual value with each placeholder's spot replaced by the placeholder, so it can be
 * compared with the expected value as text (key order included). `<*>` matches anything;
 * a named placeholder matches anything the first time and the same value after.
 */
function normalize(expected: unknown, actual: unknown, options: VectorOptions, bound: Map<string, unknown>): unknown {
  const placeholder = typeof expected === 'string' ? PLACEHOLDER.exec(expected)?.[1] : undefined;
  if (placeholder === '*') return expected;
  if (placeholder !== undefined) {
    if (!bound.has(placeholder)) bound.set(placeholder, actual);
    return JSON.stringify(bound.get(placeholder)) === JSON.stringify(actual) ? expected : actual;
  }
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) return actual;
  if (Array.isArray(actual)) return actual.map((item, index) => normalize((expected as unknown[])[index], item, options, bound));
  return Object.fromEntries(
    Object.entries(actual).map(([key, value]) => {
      const wanted = (expected as Record<string, unknown>)[key];
      return [key, options.any?.includes(key) && wanted !== undefined ? wanted : normalize(wanted, value, options, bound)];
    }),
  );
}

/** Plays the transcript on a raw socket to the room's host (started here) and checks every server frame, in order. */
export async function runVector(room: Room, vector: Vector): Promise<void> {
  await room.start(vector.options.host);
  const others = new Map<string, RawPeer>();
  for (const name of vector.options.online ?? []) {
    const peer = await room.raw();
    await peer.login(name);
    others.set(name, peer);
  }
  let peer = await room.raw();
  const bound = new Map<string, unknown>();
  let received = 0;
  const noneUnexpected = (): void => expect(peer.frames.slice(received), `${vector.title}: frames the transcript does not show`).toEqual([]);
  for (const { line, source } of vector.lines) {
    const where = `${vector.title}: ${source}`;
    if (line.from === 'new connection') {
      noneUnexpected();
      peer = await room.raw();
      received = 0;
      continue;
    }
    if (line.from === 'client') {
      peer.write(clientBytes(line, bound));
      continue;
    }
    if ('closes' in line) {
      await peer.waitClosed();
      continue;
    }
    const expected = JSON.parse(line.text) as unknown;
    await causePush(expected, others, room, vector.options);
    const index = received++;
    await waitFor(() => peer.frames.length > index).catch(() => {
      throw new Error(`${where}\ndid not arrive; the server sent:\n${peer.frames.map((f) => JSON.stringify(f)).join('\n')}`);
    });
    const actual = peer.frames[index];
    expect(JSON.stringify(normalize(expected, actual, vector.options, bound)), where).toBe(JSON.stringify(expected));
    if (line.hex.length > 0) {
      const declared = Buffer.from(line.hex).readUInt32BE(0);
      expect(declared, `${where}\nthe length prefix counts the payload's bytes`).toBe(Buffer.byteLength(line.text));
      expect(Buffer.byteLength(JSON.stringify(actual)), `${where}\nthe server's frame has that length`).toBe(declared);
    }
  }
  noneUnexpected();
}

/** The request by which an online user causes a chat push (PROTOCOL.md §8.3–8.5): who acts, and what they send. */
const CHAT_PUSHES: Record<string, (frame: Record<string, unknown>) => { actor: unknown; type: string; body: Record<string, unknown> }> = {
  chatRequest: (frame) => ({ actor: frame['from'], type: 'chatRequest', body: { user: frame['to'] } }),
  chatAnswer: (frame) => ({ actor: frame['from'], type: 'chatAnswer', body: { user: frame['to'], accept: frame['accepted'] } }),
  chatLeft: (frame) => ({ actor: frame['user'], type: 'chatLeave', body: { user: frame['with'] } }),
};

/**
 * A `message` push from an online user (but a membership line): that user sends it now, to the room. A chat push whose actor is
 * an online user: that user makes the request. The first `presence` push: the joining users log in.
 */
async function causePush(expected: unknown, others: Map<string, RawPeer>, room: Room, options: VectorOptions): Promise<void> {
  const frame = expected as { type?: string; message?: { from?: string; text?: string; clientMsgId?: string; conv?: string; groupEvent?: unknown } };
  const chat = frame.type !== undefined && Object.hasOwn(CHAT_PUSHES, frame.type) ? CHAT_PUSHES[frame.type]!(expected as Record<string, unknown>) : null;
  const actor = chat && typeof chat.actor === 'string' ? others.get(chat.actor) : undefined;
  if (chat && actor) {
    const answer = await actor.request(chat.type, chat.body);
    if (!('ok' in answer) || !answer.ok) throw new Error(`vectors: ${String(chat.actor)} could not ${chat.type}: ${JSON.stringify(answer)}`);
    return;
  }
  if (frame.type === 'presence') {
    for (const name of options.joining ?? []) {
      if (others.has(name)) continue;
      const peer = await room.raw();
      await peer.login(name);
      others.set(name, peer);
    }
    return;
  }
  // A membership line (PROTOCOL.md §6.4.1) comes of a group request in the transcript, never of a send.
  const sender = frame.type === 'message' && frame.message?.groupEvent === undefined ? others.get(frame.message?.from ?? '') : undefined;
  if (!sender || !frame.message) return;
  if (frame.message.conv !== 'room') throw new Error('vectors: an online user can only send to the room');
  const answer = await sender.request('send', { clientMsgId: frame.message.clientMsgId, to: { kind: 'room' }, text: frame.message.text });
  if (!('ok' in answer) || !answer.ok) throw new Error(`vectors: ${frame.message.from} could not send: ${JSON.stringify(answer)}`);
}
