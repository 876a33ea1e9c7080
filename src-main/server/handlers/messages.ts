/** Messages: send (with the group commit), history, sync, search. */
import { type Attachment, type AttachmentRef, type ChatMessage } from '../../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, dmConversation, groupConversation } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import { type PushFrame } from '../../../src-shared/protocol/pushes.js';
import { type Request, type RequestResults } from '../../../src-shared/protocol/requests.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import type { InsertResult, NewMessage, UserRow } from '../../store/types.js';
import { flushPendingWrites } from '../../net/connection.js';
import { turnBegins } from '../../net/turn.js';
import { ANSWERED, type Answered, type Handlers, REFUSED, type ServerContext, ServerError, refusal } from '../dispatch.js';
import { canRead, memberGroup, otherUser, userNamed } from '../lookups.js';
import type { LoggedInSession, Session } from '../session.js';
import type { FileTransfers } from '../transfer.js';
import { openChat } from './chats.js';

/** A validated send waiting for the group commit. */
interface WaitingSend {
  requestId: number;
  message: NewMessage;
  /** Users to push it to; null for the room (everyone). */
  recipients: number[] | null;
  session: Session;
  resolve: (answered: Answered) => void;
  reject: (error: unknown) => void;
}

/** Sending, changing what one sent, and reaching people through groups are refused while the host has the user muted. */
/** A send or an edit past its author's daily quota of message text (docs/PROTOCOL.md §9). */
export function dailyQuotaRefusal(limit: number, retryAfterMs: number): ServerError {
  const quota = `${Math.round(limit / 1024)} KiB`;
  return new ServerError(
    ErrorCode.STORAGE_FULL,
    `you have sent ${quota} of messages today, as much as this host keeps from one user per day; not stored. You can send again when the day ends (00:00 UTC)`,
    retryAfterMs,
  );
}

export function refuseMuted(ctx: ServerContext, me: UserRow): void {
  const refused = mutedRefusal(ctx, me.id);
  if (refused) throw refused;
}

function mutedRefusal(ctx: ServerContext, userId: number): ServerError | null {
  const until = ctx.access.mutedUntil(userId);
  if (until === null) return null;
  return new ServerError(
    ErrorCode.MUTED,
    until === Infinity
      ? 'the host muted you; you cannot send messages for now'
      : `the host muted you; you can send again in ${Math.ceil((until - ctx.clock.now()) / 60_000)} min`,
  );
}

export function messageHandlers(ctx: ServerContext) {
  const { store, roster } = ctx;

  /**
   * Up to which id the user's messages in `conv` reached some other reader: everything when one is
   * online (they are sent each message at once), else the furthest an offline reader was sent.
   */
  async function deliveredIn(me: UserRow, conv: ConversationKey): Promise<number> {
    const [kind, a, b] = conv.split(':');
    const readers = kind === 'dm' ? [Number(a), Number(b)] : kind === 'group' ? await store.memberIds(Number(a)) : null;
    if (roster.anyoneElseOnline(readers, me.id)) return store.lastMessageId();
    if (readers === null) return store.othersDeliveredCursor(me.id);
    const cursors = await Promise.all(readers.filter((id) => id !== me.id).map((id) => store.deliveredCursor(id)));
    return Math.max(0, ...cursors);
  }

  const mutedNow = (userId: number): ServerError | null => mutedRefusal(ctx, userId);

  /** Sends not yet stored (see storeWithOthers). */
  const waitingSends: WaitingSend[] = [];
  /** Whether a commit of waitingSends is on its way. */
  let commitScheduled = false;
  /**
   * The highest event id an acknowledgement has waited for (Roster.afterPushed): an answer without
   * an id of its own (a duplicate, a refusal) waits for it too, so it never overtakes one held back.
   */
  let lastAnswered = 0;

  /**
   * Group commit: the sends that arrive within one event-loop turn are stored in one
   * transaction at the end of the turn, then pushed and acknowledged, only after that
   * transaction committed. One commit per turn instead of one per message is what lets
   * a busy room keep up. Commits take their turn in ctx.publish, one at a time: while one
   * waits for the store, the next batch gathers every send that arrives meanwhile.
   */
  function storeWithOthers(send: Omit<WaitingSend, 'resolve' | 'reject'>): Promise<Answered> {
    return new Promise((resolve, reject) => {
      waitingSends.push({ ...send, resolve, reject });
      // The connection's next send, if it pipelined one, may join this commit (dispatch.ts, runSend).
      const queued = send.session.sendQueued;
      send.session.sendQueued = null;
      queued?.();
      if (commitScheduled) return;
      commitScheduled = true;
      setImmediate(() => void ctx.publish.run(commitWaitingSends));
    });
  }

  /**
   * Why a send that was checked when it arrived is not stored after all: who may write is decided
   * again as the commit stores (a removal, a group deleted, a declined chat, a ban or a mute may have
   * come between), and nothing refused there is stored, acknowledged or pushed.
   */
  function refusedAtCommit(send: WaitingSend, outcome: InsertResult): ServerError | null {
    if ('overDailyQuota' in outcome) return dailyQuotaRefusal(outcome.overDailyQuota.limit, outcome.overDailyQuota.retryAfterMs);
    if (!('notAllowed' in outcome)) return null;
    switch (outcome.notAllowed) {
      case 'group':
        return new ServerError(ErrorCode.UNKNOWN_GROUP, `you are in no group with id ${send.message.groupId}`);
      case 'declined':
        return new ServerError(ErrorCode.CHAT_DECLINED, 'they declined your chat request');
      default:
        return new ServerError(ErrorCode.BANNED, 'you are banned from this room');
    }
  }

  async function commitWaitingSends(): Promise<void> {
    commitScheduled = false;
    // The commit counts in the turn's budget (turn.ts) that its pushes are then written within.
    turnBegins();
    const sends = waitingSends.splice(0);
    // A mute that came while these waited refuses them too (mutes are held in memory, on every node).
    const muted = sends.map((send) => mutedNow(send.message.senderId));
    const storing = sends.filter((_, index) => muted[index] === null);
    let stored: InsertResult[];
    try {
      stored = await store.insertMessages(storing.map((send) => send.message));
    } catch (error) {
      for (const send of sends) send.reject(error);
      return;
    }
    // Pushes and acknowledgements go out message by message, so every connection still
    // receives messages in id order (clients skip anything at or below the last id seen).
    // Refusals too, so a connection whose pipelined sends share this commit gets its answers in order.
    let next = 0;
    roster.registering(() => sends.forEach((send, index) => {
      const { requestId, message, session, resolve } = send;
      const outcome = muted[index] ? null : stored[next++]!;
      const refused = muted[index] ?? refusedAtCommit(send, outcome!);
      if (refused || !outcome || !('message' in outcome)) {
        roster.afterPushed(lastAnswered, () => {
          session.connection.send(refusal(requestId, refused!));
          resolve(REFUSED);
        });
        return;
      }
      const { message: storedMessage, duplicate, eventId, readers } = outcome;
      // A group message goes to its members as the commit found them, not as the send found them.
      const recipients = readers ?? send.recipients;
      if (!duplicate) {
        const frame: PushFrame = { type: 'message', message: storedMessage, ...(eventId !== undefined ? { eventId } : {}) };
        if (recipients) roster.deliver(recipients, frame, session);
        else roster.broadcast(frame, session);
      }
      if (storedMessage.id > session.sentUpTo) session.sentUpTo = storedMessage.id;
      const result: RequestResults['send'] = {
        message: storedMessage,
        duplicate,
        delivered: roster.anyoneElseOnline(recipients, message.senderId),
      };
      // In a cluster, not before a lower id from another node reached this node's sessions (see Roster.afterPushed);
      // the connection's next frame waits for the answer itself, not only for the commit.
      lastAnswered = Math.max(lastAnswered, eventId ?? 0);
      roster.afterPushed(eventId ?? lastAnswered, () => {
        session.connection.send({ type: 'res', id: requestId, ok: true, result });
        resolve(ANSWERED);
      });
    }));
    flushPendingWrites();
  }

  /**
   * After a user caught up, tells the senders of the messages it got that they arrived, so a
   * message sent while nobody else was online still turns "delivered" once someone has it.
   */
  async function reportCaughtUp(me: UserRow, messages: ChatMessage[]): Promise<void> {
    const newest = new Map<string, { conv: ConversationKey; upTo: number; from: string }>();
    for (const message of messages) {
      const fromKey = nameKey(message.from);
      if (fromKey === me.nameKey) continue;
      newest.set(`${fromKey}\n${message.conv}`, { conv: message.conv, upTo: message.id, from: message.from });
    }
    for (const { conv, upTo, from } of newest.values()) {
      const sender = await store.userByKey(nameKey(from));
      if (sender) roster.deliver([sender.id], { type: 'delivered', conv, upTo });
    }
  }

  /** A reply answers a message of its own conversation that still has its text. */
  async function refuseReplyTarget(id: number, conv: ConversationKey): Promise<void> {
    const original = await store.messageFacts(id);
    if (!original || original.conv !== conv || original.membershipLine) {
      throw new ServerError(ErrorCode.UNKNOWN_MESSAGE, `no message ${id} in this conversation to reply to`);
    }
    if (original.deleted) throw new ServerError(ErrorCode.MESSAGE_DELETED, `message ${id} was deleted; it cannot be answered`);
  }

  /** The files a send attaches (docs/PROTOCOL.md §18), held for it until it is stored or refused. */
  async function claimAttachments(me: UserRow, refs: AttachmentRef[] | undefined): Promise<Awaited<ReturnType<FileTransfers['claim']>> | null> {
    if (!refs) return null;
    if (!ctx.files) throw new ServerError(ErrorCode.UNKNOWN_FILE, 'this host takes no files');
    return ctx.files.claim(me, refs);
  }

  /** Where a send goes, checked, and its place in the group commit; resolves once it is stored and answered. */
  async function addressed(session: LoggedInSession, request: Request<'send'>, attachments: Attachment[] | undefined): Promise<Answered> {
    const me = session.user;
    const now = ctx.clock.now();
    let conv: ConversationKey;
    let recipients: number[] | null = null;
    let toUserId: number | undefined;
    let groupId: number | undefined;
    const to = request.to;
    if (to.kind === 'room') {
      conv = ROOM;
    } else if (to.kind === 'dm') {
      const other = await otherUser(store, me, to.user);
      await openChat(ctx, session, me, other, now);
      conv = dmConversation(me.id, other.id);
      recipients = [me.id, other.id];
      toUserId = other.id;
    } else {
      const group = await memberGroup(store, me, to.groupId);
      conv = groupConversation(group.id);
      recipients = await store.memberIds(group.id);
      groupId = group.id;
    }
    if (request.replyTo !== undefined) await refuseReplyTarget(request.replyTo, conv);
    return storeWithOthers({
      requestId: request.id,
      message: {
        conv,
        senderId: me.id,
        clientMsgId: request.clientMsgId,
        text: request.text,
        ts: now,
        ...(toUserId !== undefined ? { toUserId } : {}),
        ...(groupId !== undefined ? { groupId } : {}),
        ...(request.replyTo !== undefined ? { replyTo: request.replyTo } : {}),
        ...(attachments ? { attachments } : {}),
      },
      recipients,
      session,
    });
  }

  return {
    send: async (session, request) => {
      const me = session.user;
      const stored = await store.messageByClientId(me.id, request.clientMsgId);
      if (stored) {
        // Only a group can stop being readable: a resend there after removal is refused, as a new send would be.
        if (!(await canRead(store, me, stored.conv))) await memberGroup(store, me, stored.groupId ?? 0);
        return { message: stored, duplicate: true, delivered: false };
      }
      refuseMuted(ctx, me);
      const files = await claimAttachments(me, request.attachments);
      try {
        return await addressed(session, request, files?.attachments);
      } finally {
        files?.release();
      }
    },

    history: async (session, request) => {
      if (!(await canRead(store, session.user, request.conv))) {
        throw new ServerError(ErrorCode.UNKNOWN_CONVERSATION, `no conversation ${request.conv} for you`);
      }
      const page = await store.history(request.conv, request.before, request.limit ?? LIMITS.defaultPageSize);
      return { ...page, deliveredUpTo: await deliveredIn(session.user, request.conv) };
    },

    sync: async (session, request) => {
      const page = await store.sync(session.user.id, request.after, request.limit ?? LIMITS.defaultPageSize);
      session.syncedTo = Math.max(session.syncedTo, request.after);
      const last = page.messages.at(-1);
      if (last && last.id > session.sentUpTo) session.sentUpTo = last.id;
      await reportCaughtUp(session.user, page.messages);
      return page;
    },

    /** Catch-up through the event log: also says, like sync, that the client holds every message up to `after`. */
    events: async (session, request) => {
      const page = await store.events(session.user.id, request.after, request.limit ?? LIMITS.defaultPageSize);
      session.syncedTo = Math.max(session.syncedTo, await store.messageIdAtEvent(request.after));
      const messages = page.events.flatMap((event) => (event.kind === 'message' ? [event.message] : []));
      const last = messages.at(-1);
      if (last && last.id > session.sentUpTo) session.sentUpTo = last.id;
      await reportCaughtUp(session.user, messages);
      return page;
    },

    search: async (session, request) => {
      const person = request.person === undefined ? undefined : await userNamed(store, request.person);
      const signal = session.connection.closingSignal;
      let page;
      try {
        page = await store.search(session.user.id, {
          query: request.query,
          ...(person ? { personId: person.id } : {}),
          ...(request.before !== undefined ? { before: request.before } : {}),
          limit: request.limit ?? LIMITS.defaultPageSize,
          signal,
        });
      } catch (error) {
        // The connection went while the worker searched: there is no one left to answer.
        if (signal.aborted) return ANSWERED;
        throw error;
      }
      return { hits: page.messages.map((message: ChatMessage) => ({ message })), hasMore: page.hasMore };
    },
  } satisfies Pick<Handlers, 'send' | 'history' | 'sync' | 'search' | 'events'>;
}
