/**
 * Conversation changes (protocol 1.1, docs/PROTOCOL.md §17): edit, delete, react, read
 * positions, typing, privacy and the event log. Who may touch a message is decided as for
 * reading its conversation: a message you cannot read does not exist for you.
 */
import { type ConversationKey, ROOM } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import type { ConversationEvent } from '../../../src-shared/protocol/objects.js';
import type { PushFrame } from '../../../src-shared/protocol/pushes.js';
import type { MessageChange, MessageFacts, UserRow } from '../../store/types.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { canRead } from '../lookups.js';
import { dailyQuotaRefusal } from '../outbound/commit.js';
import { refuseMuted } from './messages.js';
import { NotReadable, OverDailyQuota } from '../../store/readers.js';
import { KeyedBuckets } from '../rate-limit.js';

/** Why the downloads of a deleted message's files end; being raw bytes, they are cut without it. */
const MESSAGE_GONE = { code: ErrorCode.UNKNOWN_FILE, message: 'the message carrying this file was deleted' };

/** Typing entries older than this are dropped when the table is swept. */
const TYPING_SWEEP_AT = 10_000;

/** The users who can read conv; null for the room (everyone). */
export async function readersOf(ctx: ServerContext, conv: ConversationKey): Promise<number[] | null> {
  if (conv === ROOM) return null;
  const [kind, a, b] = conv.split(':');
  return kind === 'dm' ? [Number(a), Number(b)] : ctx.store.memberIds(Number(a));
}

/**
 * Empties the write-ahead log of deleted text (a message's, a group's), after the answer: deletes in a
 * burst share one truncation, which the store runs off this thread.
 */
export function purgeDeleted({ store, log }: ServerContext): void {
  store.purgeDeleted().catch((error: unknown) => log.error('WAL not truncated after a delete', { error: String(error) }));
}

export function conversationHandlers(ctx: ServerContext) {
  const { store, fanOut, log } = ctx;
  /** Each user's edits, deletes and reactions: every one is pushed to all the conversation's readers. */
  const changes = new KeyedBuckets(ctx.limits.changesPerMinute, ctx.limits.changesPerMinute);
  /** When each user's typing in each conversation was last forwarded ("userId conv"). */
  const typingForwarded = new Map<string, number>();

  const unknownMessage = (id: number): ServerError => new ServerError(ErrorCode.UNKNOWN_MESSAGE, `no message ${id} for you`);
  const unknownConversation = (conv: ConversationKey): ServerError =>
    new ServerError(ErrorCode.UNKNOWN_CONVERSATION, `no conversation ${conv} for you`);

  /**
   * A change the store makes only if the user can still read the conversation as it commits: a removal or
   * a group deletion on another node may have come since the check (issue 32). Refused, it is answered as
   * the check would have answered it then.
   */
  async function asReader<T>(change: Promise<T>, refusal: ServerError): Promise<T> {
    try {
      return await change;
    } catch (error) {
      if (error instanceof OverDailyQuota) throw dailyQuotaRefusal(error.limit, error.retryAfterMs);
      throw error instanceof NotReadable ? refusal : error;
    }
  }

  /** The message, if the user can read its conversation now; otherwise it does not exist for them. */
  async function readableMessage(me: UserRow, id: number): Promise<MessageFacts> {
    const facts = await store.messageFacts(id);
    if (!facts || !(await canRead(store, me, facts.conv))) throw unknownMessage(id);
    if (facts.membershipLine) throw new ServerError(ErrorCode.UNKNOWN_MESSAGE, `message ${id} is a membership line; it cannot be changed`);
    return facts;
  }

  function refuseChangeRate(me: UserRow): void {
    const wait = changes.take(String(me.id));
    if (wait > 0) {
      throw new ServerError(ErrorCode.RATE_LIMITED, `you changed messages too often just now; try again in ${Math.ceil(wait / 1000)} s`, wait);
    }
  }

  function notDeleted(facts: MessageFacts): void {
    if (facts.deleted) throw new ServerError(ErrorCode.MESSAGE_DELETED, `message ${facts.id} was deleted`);
  }

  async function readableConversation(me: UserRow, conv: ConversationKey): Promise<void> {
    if (!(await canRead(store, me, conv))) throw unknownConversation(conv);
  }

  /** To every session of every reader of the conversation, the actor's own included. */
  async function toReaders(conv: ConversationKey, frame: PushFrame): Promise<void> {
    const readers = await readersOf(ctx, conv);
    fanOut.push(readers, frame);
  }

  async function announce(kind: 'edit' | 'delete' | 'reaction', change: MessageChange): Promise<{ message: MessageChange['message'] }> {
    const event: ConversationEvent = { eventId: change.eventId, kind, message: change.message };
    await toReaders(change.message.conv, { type: 'event', event });
    return { message: change.message };
  }

  /** The other readers of conv who see the user's read position: both must send read receipts. */
  async function receiptSharers(me: UserRow, conv: ConversationKey): Promise<number[]> {
    if (!(await store.sendsReadReceipts(me.id))) return [];
    const others = ((await readersOf(ctx, conv)) ?? []).filter((id) => id !== me.id);
    const sharing = await Promise.all(others.map((id) => store.sendsReadReceipts(id)));
    return others.filter((_, index) => sharing[index]);
  }

  /** Typing in a direct chat whose other person declined yours reaches nobody, as a message would not (§17.7). */
  async function refuseDeclinedTypist(me: UserRow, conv: ConversationKey): Promise<void> {
    const [kind, a, b] = conv.split(':');
    if (kind !== 'dm') return;
    const relation = await store.relation(Number(a), Number(b));
    if (relation?.state === 'declined' && relation.requesterId === me.id) {
      throw new ServerError(ErrorCode.CHAT_DECLINED, 'they declined your chat request');
    }
  }

  function sweepTyping(now: number): void {
    if (typingForwarded.size < TYPING_SWEEP_AT) return;
    for (const [key, at] of typingForwarded) if (now - at >= LIMITS.typingIntervalMs) typingForwarded.delete(key);
  }

  return {
    edit: (session, request) => ctx.publish.run(async () => {
      const me = session.user;
      refuseChangeRate(me);
      const facts = await readableMessage(me, request.messageId);
      if (facts.senderId !== me.id) throw new ServerError(ErrorCode.NOT_YOUR_MESSAGE, 'you can only edit your own messages');
      notDeleted(facts);
      refuseMuted(ctx, me);
      const now = ctx.clock.now();
      if (ctx.editWindowMs !== null && now - facts.ts > ctx.editWindowMs) {
        throw new ServerError(
          ErrorCode.EDIT_WINDOW_CLOSED,
          `messages can be edited for ${Math.round(ctx.editWindowMs / 60_000)} min after sending in this room`,
        );
      }
      return announce('edit', await asReader(store.editMessage(facts.id, request.text, now, me.id), unknownMessage(facts.id)));
    }),

    delete: (session, request) => ctx.publish.run(async () => {
      const me = session.user;
      refuseChangeRate(me);
      const facts = await readableMessage(me, request.messageId);
      const moderation = facts.senderId !== me.id;
      if (moderation && !ctx.isHostAccount(me.name)) {
        throw new ServerError(ErrorCode.NOT_YOUR_MESSAGE, 'you can only delete your own messages');
      }
      notDeleted(facts);
      const result = await announce('delete', await asReader(store.deleteMessage(facts.id, me.id), unknownMessage(facts.id)));
      // Its files went with it: who was still fetching one stops (PROTOCOL.md §18.1).
      fanOut.end({ messageId: facts.id }, MESSAGE_GONE);
      if (moderation) {
        log.info('message deleted by the host', { id: facts.id, conv: facts.conv, sender: (await store.userById(facts.senderId))?.name });
      }
      purgeDeleted(ctx);
      return result;
    }),

    react: (session, request) => ctx.publish.run(async () => {
      const me = session.user;
      refuseChangeRate(me);
      const facts = await readableMessage(me, request.messageId);
      notDeleted(facts);
      const outcome = await asReader(store.setReaction(facts.id, me.id, request.emoji, request.on, me.id), unknownMessage(facts.id));
      if (outcome === 'limit') {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `you can react with at most ${LIMITS.maxReactionsPerUser} emoji to one message`);
      }
      if (outcome === 'unchanged') return { message: (await store.messageById(facts.id))! };
      return announce('reaction', outcome);
    }),

    read: (session, request) => ctx.publish.run(async () => {
      const me = session.user;
      await readableConversation(me, request.conv);
      const { upTo, eventId } = await asReader(store.setReadPosition(me.id, request.conv, request.upTo, me.id), unknownConversation(request.conv));
      if (eventId !== undefined) {
        const event: ConversationEvent = { eventId, kind: 'read', conv: request.conv, user: me.name, upTo };
        fanOut.push([me.id, ...(await receiptSharers(me, request.conv))], { type: 'event', event });
      }
      return { upTo };
    }),

    readState: async (session) => ({ conversations: await store.readStates(session.user.id) }),

    receipts: async (session, request) => {
      const me = session.user;
      await readableConversation(me, request.conv);
      if (request.conv === ROOM || !(await store.sendsReadReceipts(me.id))) return { receipts: [] };
      return { receipts: await store.receipts(request.conv, me.id) };
    },

    typing: async (session, request) => {
      const me = session.user;
      await readableConversation(me, request.conv);
      await refuseDeclinedTypist(me, request.conv);
      const now = Date.now();
      const key = `${me.id} ${request.conv}`;
      if (now - (typingForwarded.get(key) ?? -Infinity) < LIMITS.typingIntervalMs) return {};
      sweepTyping(now);
      typingForwarded.set(key, now);
      // The sender's other sessions get it too, and ignore their own name (cheaper than sorting sessions here).
      const frame: PushFrame = { type: 'typing', conv: request.conv, user: me.name };
      const readers = await readersOf(ctx, request.conv);
      fanOut.push(readers, frame, session);
      return {};
    },

    privacy: async (session, request) => {
      const me = session.user;
      if (request.sendReadReceipts !== undefined) await store.setSendReadReceipts(me.id, request.sendReadReceipts);
      return { sendReadReceipts: await store.sendsReadReceipts(me.id) };
    },

  } satisfies Pick<Handlers, 'edit' | 'delete' | 'react' | 'read' | 'readState' | 'receipts' | 'typing' | 'privacy'>;
}
