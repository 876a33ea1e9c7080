/** Private chats: contacts, asking for a chat, answering, leaving. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { RelationRow, UserRow } from '../../store/types.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { contact, otherUser } from '../lookups.js';
import type { Session } from '../session.js';

/** Runs a change of two users' relation in the pair's turn: from reading the relation to writing it, nothing else changes it. */
function inPairTurn<T>(ctx: ServerContext, a: UserRow, b: UserRow, change: () => Promise<T>): Promise<T> {
  return ctx.relations.run(a.id < b.id ? `${a.id} ${b.id}` : `${b.id} ${a.id}`, change);
}

/**
 * Asks `other` for a private chat, or accepts their pending request; returns the relation now. `explicit`: a
 * `chatRequest`, which after a decline asks again once the cool-down has passed (a message never does).
 */
export function openChat(ctx: ServerContext, session: Session, me: UserRow, other: UserRow, now: number, explicit: boolean): Promise<RelationRow> {
  return inPairTurn(ctx, me, other, () => openChatNow(ctx, session, me, other, now, explicit));
}

async function openChatNow(ctx: ServerContext, session: Session, me: UserRow, other: UserRow, now: number, explicit: boolean): Promise<RelationRow> {
  const { store, log, fanOut } = ctx;
  const relation = await store.relation(me.id, other.id);
  if (relation?.state === 'accepted') return relation;
  if (relation?.state === 'pending' && relation.requesterId === me.id) return relation;
  if (relation?.state === 'declined' && relation.requesterId === me.id) {
    const again = relation.since + ctx.limits.chatRequestCooldownMs;
    if (!explicit || now < again) {
      throw new ServerError(ErrorCode.CHAT_DECLINED, `${other.name} declined your chat request; you may ask again from ${new Date(again).toISOString()}`);
    }
  }
  if (relation?.state === 'pending') {
    const accepted = await store.setRelation(me.id, other.id, 'accepted', other.id, now);
    log.info('chat request answered', { user: me.name, requester: other.name, accepted: true });
    fanOut.push([other.id, me.id], { type: 'chatAnswer', from: me.name, to: other.name, accepted: true, ts: now }, session);
    return accepted;
  }
  const pending = await store.setRelation(me.id, other.id, 'pending', me.id, now);
  log.info('chat request', { user: me.name, to: other.name });
  fanOut.push([other.id, me.id], { type: 'chatRequest', from: me.name, to: other.name, ts: now }, session);
  return pending;
}

export function chatHandlers(ctx: ServerContext) {
  const { store, log, fanOut } = ctx;
  return {
    contacts: async (session) => ({
      contacts: await Promise.all((await store.relationsOf(session.user.id)).map((relation) => contact(store, session.user, relation))),
    }),

    chatRequest: async (session, request) => {
      const other = await otherUser(store, session.user, request.user);
      return { contact: await contact(store, session.user, await openChat(ctx, session, session.user, other, ctx.clock.now(), true)) };
    },

    chatAnswer: async (session, request) => {
      const me = session.user;
      const other = await otherUser(store, me, request.user);
      return inPairTurn(ctx, me, other, async () => {
        const relation = await store.relation(me.id, other.id);
        if (relation?.state !== 'pending' || relation.requesterId !== other.id) {
          throw new ServerError(ErrorCode.NO_CHAT_REQUEST, `${other.name} has not asked to chat with you`);
        }
        const now = ctx.clock.now();
        const answered = await store.setRelation(me.id, other.id, request.accept ? 'accepted' : 'declined', other.id, now);
        log.info('chat request answered', { user: me.name, requester: other.name, accepted: request.accept });
        fanOut.push(
          [other.id, me.id],
          { type: 'chatAnswer', from: me.name, to: other.name, accepted: request.accept, ts: now },
          session,
        );
        return { contact: await contact(store, me, answered) };
      });
    },

    chatLeave: async (session, request) => {
      const me = session.user;
      const other = await otherUser(store, me, request.user);
      return inPairTurn(ctx, me, other, async () => {
        const relation = await store.relation(me.id, other.id);
        const open = relation?.state === 'accepted' || (relation?.state === 'pending' && relation.requesterId === me.id);
        if (!open) throw new ServerError(ErrorCode.NO_CHAT_REQUEST, `you have no open chat with ${other.name}`);
        await store.deleteRelation(me.id, other.id);
        const now = ctx.clock.now();
        log.info('chat left', { user: me.name, with: other.name });
        fanOut.push([other.id, me.id], { type: 'chatLeft', user: me.name, with: other.name, ts: now }, session);
        return {};
      });
    },
  } satisfies Pick<Handlers, 'contacts' | 'chatRequest' | 'chatAnswer' | 'chatLeave'>;
}
