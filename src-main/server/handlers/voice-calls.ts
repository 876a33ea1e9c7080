/**
 * Calls (issue 39, docs/PROTOCOL.md §21): who may call where, checked here; the calls themselves, their
 * rules and the relay of signals are ctx.calls (voice-calls.ts).
 */
import { type ConversationKey, conversationKind } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { canRead } from '../lookups.js';
import type { LoggedInSession } from '../session.js';
import type { CallState } from '../call-state.js';
import { callInfo } from '../call-state.js';
import { refuseMuted } from './messages.js';

export function voiceCallHandlers(ctx: ServerContext) {
  const { store, calls } = ctx;

  /**
   * A call is for people who may write to each other: the two of a direct conversation once the chat
   * is accepted (ringing is more than a message, which may ask for the chat), the members of a group;
   * never the whole room. A muted user may not call or join.
   */
  async function refuseCaller(session: LoggedInSession, conv: ConversationKey): Promise<void> {
    const me = session.user;
    const kind = conversationKind(conv);
    if (kind === 'room') throw new ServerError(ErrorCode.INVALID_TARGET, 'calls are in direct conversations and groups, not the whole room');
    if (!(await canRead(store, me, conv))) throw new ServerError(ErrorCode.UNKNOWN_CONVERSATION, `no conversation ${conv} for you`);
    if (kind === 'dm') {
      const [, a, b] = conv.split(':');
      const otherId = Number(a) === me.id ? Number(b) : Number(a);
      const relation = await store.relation(me.id, otherId);
      if (relation?.state !== 'accepted') {
        const other = (await store.userById(otherId))?.name ?? 'they';
        if (relation?.state === 'declined') throw new ServerError(ErrorCode.CHAT_DECLINED, `there is no chat between you and ${other}: it was declined`);
        throw new ServerError(ErrorCode.INVALID_TARGET, `you can call ${other} once both of you have accepted the chat`);
      }
    }
    refuseMuted(ctx, me);
  }

  /** The call, if it is one of a conversation the user may read; otherwise it does not exist for them. */
  async function readableCall(session: LoggedInSession, callId: string): Promise<CallState> {
    const call = calls.byId(callId);
    if (!call || !(await canRead(store, session.user, call.conv))) {
      throw new ServerError(ErrorCode.UNKNOWN_CALL, `no call ${callId} for you: it ended, or never was`);
    }
    return call;
  }

  return {
    callStart: async (session, request) => {
      await refuseCaller(session, request.conv);
      return calls.start(session, request.conv, request.video);
    },

    callJoin: async (session, request) => {
      const call = await readableCall(session, request.callId);
      await refuseCaller(session, call.conv);
      return calls.join(session, call.id, request.endpoint);
    },

    callDecline: async (session, request) => {
      await calls.decline(session, (await readableCall(session, request.callId)).id);
      return {};
    },

    callLeave: async (session, request) => {
      await calls.leave(session, (await readableCall(session, request.callId)).id);
      return {};
    },

    callSignal: (session, request) => {
      calls.signal(session, request.callId, request.to, request.signal);
      return {};
    },

    calls: async (session) => {
      const readable = await Promise.all(calls.all().map(async (call) => ((await canRead(store, session.user, call.conv)) ? [callInfo(call)] : [])));
      return { calls: readable.flat() };
    },
  } satisfies Pick<Handlers, 'callStart' | 'callJoin' | 'callDecline' | 'callLeave' | 'callSignal' | 'calls'>;
}
