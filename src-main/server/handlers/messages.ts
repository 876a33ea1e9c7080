/** Messages: send (with the group commit), history, sync, search. */
import { type Attachment, type AttachmentRef, type ChatMessage } from '../../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, dmConversation, groupConversation } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import { type Request, type RequestResults } from '../../../src-shared/protocol/requests.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import type { UserRow } from '../../store/types.js';
import type { Handlers, ServerContext } from '../context.js';
import { ANSWERED, type Answered, ServerError } from '../errors.js';
import { canRead, memberGroup, otherUser, resendRefusal, userNamed } from '../lookups.js';
import { markSent, type LoggedInSession } from '../session.js';
import type { FileTransfers } from '../transfer.js';
import { openChat } from './chats.js';

/** Sending, changing what one sent, and reaching people through groups are refused while the host has the user muted. */
export function refuseMuted(ctx: ServerContext, me: UserRow): void {
  const refused = mutedRefusal(ctx, me.id);
  if (refused) throw refused;
}

export function mutedRefusal(ctx: ServerContext, userId: number): ServerError | null {
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
  const { store, roster, fanOut } = ctx;

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
      if (sender) fanOut.push([sender.id], { type: 'delivered', conv, upTo });
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
      await openChat(ctx, session, me, other, now, false);
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
    return ctx.commit.store({
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

  /** The answer to a resend of a message stored: the message, unless it went to a group its sender has left. */
  async function resent(me: UserRow, stored: ChatMessage): Promise<RequestResults['send']> {
    const refused = await resendRefusal(store, me, stored);
    if (refused) throw refused;
    // Stored through another node (before the sender's app moved here, say), it may be ahead of what
    // this node pushed: the answer waits for its id (a message's event id), as a new send's does (§10.3).
    await new Promise<void>((resolve) => fanOut.afterPushed(stored.id, resolve));
    return { message: stored, duplicate: true, delivered: false };
  }

  return {
    send: async (session, request) => {
      const me = session.user;
      // A resend is answered as the message stored (§7.4). Its client id is looked up when a check refuses it;
      // one that passes them is found by the commit's insert. A DM's is looked up first: a DM may open a chat.
      if (request.to.kind === 'dm') {
        const stored = await store.messageByClientId(me.id, request.clientMsgId);
        if (stored) return resent(me, stored);
      }
      try {
        refuseMuted(ctx, me);
        const files = await claimAttachments(me, request.attachments);
        try {
          return await addressed(session, request, files?.attachments);
        } finally {
          files?.release();
        }
      } catch (error) {
        const stored = error instanceof ServerError ? await store.messageByClientId(me.id, request.clientMsgId) : undefined;
        if (!stored) throw error;
        return resent(me, stored);
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
      await reportCaughtUp(session.user, page.messages);
      // After the last wait: the connection may have closed during it.
      markSent(session, page.messages.at(-1)?.id ?? 0);
      return page;
    },

    /** Catch-up through the event log: also says, like sync, that the client holds every message up to `after`. */
    events: async (session, request) => {
      const page = await store.events(session.user.id, request.after, request.limit ?? LIMITS.defaultPageSize);
      session.syncedTo = Math.max(session.syncedTo, await store.messageIdAtEvent(request.after));
      const messages = page.events.flatMap((event) => (event.kind === 'message' ? [event.message] : []));
      await reportCaughtUp(session.user, messages);
      markSent(session, messages.at(-1)?.id ?? 0);
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
