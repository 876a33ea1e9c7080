/**
 * Model-based convergence (issue 12): random interleavings of send, reply, edit, delete, react
 * and read, by several sessions of several users that go offline and come back, against a real
 * server. Afterwards what every session holds must equal what a fresh login sees. The seed is
 * printed with any failure; LANCHAT_SEED=<n> replays one.
 */
import { describe, expect, it } from 'vitest';
import { withChangedMessage } from '../../src-shared/message-changes.js';
import type { ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { seededRandom } from '../testing/prng.js';
import { useRoom } from '../testing/room.js';
import { ChatClient } from './client.js';

const room = useRoom({ start: {} });

const USERS = ['ann', 'ben', 'cem'] as const;
const EMOJI = ['👍', '🎉', '❤️', '😂'];
const STEPS = 70;

/** What one session holds: as a renderer would keep it from the client's events. */
class SessionModel {
  messages: readonly ChatMessage[] = [];
  /** "conv user" → read position. */
  readonly reads = new Map<string, number>();
  client: ChatClient | null = null;
  cursors = { lastMessageId: 0, lastEventId: 0 };

  constructor(readonly user: string) {}

  async connect(port: number): Promise<void> {
    const client = new ChatClient({ host: '127.0.0.1', port, name: this.user, password: `${this.user}-secret`, ...this.cursors });
    client.on('message', (message) => {
      this.messages = [...this.messages, message];
    });
    client.on('event', (event) => {
      if (event.kind === 'read') this.reads.set(`${event.conv} ${event.user}`, event.upTo);
      else this.messages = withChangedMessage(this.messages, event.message);
    });
    room.track(client);
    await client.connect();
    this.client = client;
  }

  disconnect(): void {
    const client = this.client!;
    this.cursors = { lastMessageId: client.lastMessageId, lastEventId: client.lastEventId };
    client.close();
    this.client = null;
  }
}

/** What a fresh login of `user` sees: every message of its conversations, and the read positions it is shown. */
async function freshView(user: string, convs: string[]): Promise<{ messages: ChatMessage[]; reads: Map<string, number> }> {
  const client = await room.user(user);
  const messages: ChatMessage[] = [];
  const reads = new Map<string, number>();
  for (const conv of convs) {
    let before: number | undefined;
    for (;;) {
      const page = await client.request('history', { conv, limit: 200, ...(before !== undefined ? { before } : {}) });
      messages.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) break;
      before = page.messages[0]!.id;
    }
    for (const receipt of (await client.request('receipts', { conv })).receipts) reads.set(`${conv} ${receipt.user}`, receipt.upTo);
  }
  for (const state of (await client.request('readState')).conversations) {
    if (convs.includes(state.conv) && state.upTo > 0) reads.set(`${state.conv} ${user}`, state.upTo);
  }
  client.close();
  return { messages: messages.sort((a, b) => a.id - b.id), reads };
}

async function run(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const sessions = USERS.flatMap((user) => [new SessionModel(user), new SessionModel(user)]);
  for (const session of sessions) await session.connect(room.port);
  const [ann, ben] = [sessions[0]!.client!, sessions[2]!.client!];
  await ann.request('chatRequest', { user: 'ben' });
  await ben.request('chatAnswer', { user: 'ann', accept: true });
  const dmConv = (await ann.request('contacts')).contacts[0]!.conv;
  const convsOf = (user: string): string[] => (user === 'cem' ? ['room'] : ['room', dmConv]);
  /** Every message stored, as the server last answered it to its actor (for choosing targets). */
  const known = new Map<number, ChatMessage>();

  for (let step = 0; step < STEPS; step++) {
    const session = pick(sessions);
    if (!session.client) {
      await session.connect(room.port);
      continue;
    }
    const client = session.client;
    const me = session.user;
    const action = random();
    const readable = [...known.values()].filter((message) => convsOf(me).includes(message.conv));
    const mine = readable.filter((message) => message.from === me && !message.deleted);
    const alive = readable.filter((message) => !message.deleted);
    if (action < 0.1 && sessions.filter((s) => s.client).length > 1) {
      session.disconnect();
    } else if (action < 0.4 || alive.length === 0) {
      const conv = pick(convsOf(me));
      const to: Target = conv === 'room' ? { kind: 'room' } : { kind: 'dm', user: me === 'ann' ? 'ben' : 'ann' };
      const answered = alive.filter((message) => message.conv === conv);
      const replyTo = random() < 0.4 && answered.length > 0 ? pick(answered).id : undefined;
      const mention = random() < 0.3 ? ` @${pick(USERS)}` : '';
      const message = await client.send(to, `step ${step} by ${me}${mention}\nline two`, `s${step}`, replyTo);
      known.set(message.id, message);
    } else if (action < 0.55 && mine.length > 0) {
      const { message } = await client.request('edit', { messageId: pick(mine).id, text: `edited at ${step}` });
      known.set(message.id, message);
    } else if (action < 0.62 && mine.length > 0) {
      const { message } = await client.request('delete', { messageId: pick(mine).id });
      known.set(message.id, message);
    } else if (action < 0.82) {
      const target = pick(alive);
      const emoji = pick(EMOJI);
      const on = !(target.reactions ?? []).some((reaction) => reaction.emoji === emoji && reaction.users.includes(me));
      const { message } = await client.request('react', { messageId: target.id, emoji, on });
      known.set(message.id, message);
    } else {
      const target = pick(readable);
      await client.request('read', { conv: target.conv, upTo: target.id });
    }
  }

  for (const session of sessions) if (!session.client) await session.connect(room.port);
  // A request answered after every change: each connection has received all pushes sent before it.
  for (const session of sessions) await session.client!.request('readState');

  for (const user of USERS) {
    const fresh = await freshView(user, convsOf(user));
    for (const [index, session] of sessions.entries()) {
      if (session.user !== user) continue;
      const where = `session ${index} of ${user}`;
      expect([...session.messages].sort((a, b) => a.id - b.id), where).toEqual(fresh.messages);
      expect(new Map([...session.reads].filter(([key]) => convsOf(user).includes(key.split(' ')[0]!))), where).toEqual(fresh.reads);
    }
  }
}

describe('convergence', () => {
  it('leaves every session, after any interleaving with absences, holding what a fresh login sees', async () => {
    const seed = Number(process.env.LANCHAT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    try {
      await run(seed);
    } catch (error) {
      console.error(`convergence failed with seed ${seed} (replay: LANCHAT_SEED=${seed} npx vitest run src-main/client/convergence.test.ts)`);
      throw error;
    }
  }, 120_000);
});
