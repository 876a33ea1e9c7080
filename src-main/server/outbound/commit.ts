/**
 * The commit step of the outbound path: sends that were checked and addressed by the messages
 * handler are stored here, pushed to whom they concern (fan-out.ts) and answered. Handlers say what
 * to store and whom it concerns; this module alone writes their answers and pushes.
 *
 * The rules (docs/ARCHITECTURE.md, "Order once the store waits"):
 * - Group commit: the sends that arrive within one event-loop turn are stored in one transaction at
 *   the end of the turn, then pushed and acknowledged, only after that transaction committed. One
 *   commit per turn instead of one per message is what lets a busy room keep up. Commits take their
 *   turn in `publish`, one at a time: while one waits for the store, the next batch gathers every
 *   send that arrives meanwhile. A connection's pipelined sends share a commit: while one of the
 *   batch's connections has its next send already read and held back only by the loop's turn
 *   budget (dispatch.ts, sendDueNextTurn), the commit waits for it, up to GATHER_UP_TO sends. So a
 *   resent outbox or a pasted text is one transaction and one write to each peer, not one each few
 *   sends; a commit still starts no later than the turn after its connections stop reading sends.
 * - Decided as stored: who may write is decided again inside the commit's transaction (a removal, a
 *   group deleted, a declined chat, a ban may have come between the check and the commit; a mute is
 *   checked as the commit starts), and a group message goes to the members the transaction read.
 *   Nothing refused there is stored, acknowledged or pushed.
 * - Order: pushes and answers go out message by message, all registered before any is released, so
 *   every connection receives messages in id order and a send's answer after every lower id's push;
 *   an answer without an id of its own (a duplicate, a refusal) waits for the highest id an answer
 *   waited for, so answers keep request order.
 */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { PushFrame } from '../../../src-shared/protocol/pushes.js';
import type { RequestResults } from '../../../src-shared/protocol/requests.js';
import type { ConnectionScheduler } from '../../net/scheduler.js';
import { turnBegins } from '../../net/turn.js';
import type { AsyncStore, InsertResult, NewMessage, StoredMessage } from '../../store/types.js';
import { ANSWERED, type Answered, REFUSED, ServerError, refusal } from '../errors.js';
import { notInGroup, resendRefusal } from '../lookups.js';
import type { Roster } from '../roster.js';
import type { FanOut } from './fan-out.js';
import type { SerialQueue } from '../serial.js';
import { markSent, type Session } from '../session.js';

/** A checked send, addressed: what to store and whom it concerns. */
export interface AddressedSend {
  requestId: number;
  message: NewMessage;
  /** Users to push it to; null for the room (everyone). */
  recipients: number[] | null;
  session: Session;
}

interface WaitingSend extends AddressedSend {
  resolve: (answered: Answered) => void;
  reject: (error: unknown) => void;
}

/** A send or an edit past its author's daily quota of message text (docs/PROTOCOL.md §9). */
export function dailyQuotaRefusal(limit: number, retryAfterMs: number): ServerError {
  const quota = `${Math.round(limit / 1024)} KiB`;
  return new ServerError(
    ErrorCode.STORAGE_FULL,
    `you have sent ${quota} of messages today, as much as this host keeps from one user per day; not stored. You can send again when the day ends (00:00 UTC)`,
    retryAfterMs,
  );
}

export interface SendCommitOptions {
  store: AsyncStore;
  /** Who is online: a send's answer says whether anyone it is for is. */
  roster: Roster;
  fanOut: FanOut;
  /** Everything that takes message or event ids, one at a time (ServerContext.publish). */
  publish: SerialQueue;
  /** The server's connections' writes: a commit's answers go out in the turn it ends. */
  scheduler: ConnectionScheduler;
  /** Why the user may not send now (muted), or null. */
  refusedNow: (userId: number) => ServerError | null;
  /** Whether the session's next send is read and waits only for the loop's next turn. */
  sendDueNextTurn: (session: Session) => boolean;
}

/**
 * A commit stops waiting for more of its connections' pipelined sends once it holds this many: two
 * connections' windows (PIPELINED_SENDS), about 10 ms of SQLite inserts on this machine cold.
 */
const GATHER_UP_TO = 128;

export class SendCommit {
  /** Sends not yet stored. */
  private readonly waiting: WaitingSend[] = [];
  /** Whether a commit of `waiting` is on its way. */
  private scheduled = false;
  /**
   * The highest event id an acknowledgement has waited for (FanOut.afterPushed): an answer without
   * an id of its own (a duplicate, a refusal) waits for it too, so it never overtakes one held back.
   */
  private lastAnswered = 0;

  constructor(private readonly options: SendCommitOptions) {}

  /** Queues a send for the next commit; resolves once it is stored and answered, or refused. */
  store(send: AddressedSend): Promise<Answered> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...send, resolve, reject });
      // The connection's next send, if it pipelined one, may join this commit (dispatch.ts, runSend).
      const queued = send.session.sendQueued;
      send.session.sendQueued = null;
      queued?.();
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(this.gathered);
    });
  }

  /** Commits the waiting sends, or waits a turn more while a connection among them has its next send read. */
  private readonly gathered = (): void => {
    const { publish, sendDueNextTurn } = this.options;
    if (this.waiting.length < GATHER_UP_TO && this.waiting.some((send) => sendDueNextTurn(send.session))) {
      setImmediate(this.gathered);
      return;
    }
    void publish.run(() => this.commit());
  };

  private async commit(): Promise<void> {
    const { store, fanOut, scheduler, refusedNow } = this.options;
    this.scheduled = false;
    // The commit counts in the turn's budget (turn.ts) that its pushes are then written within.
    turnBegins();
    const sends = this.waiting.splice(0);
    // A mute that came while these waited refuses them too (mutes are held in memory, on every node).
    const muted = sends.map((send) => refusedNow(send.message.senderId));
    const storing = sends.filter((_, index) => muted[index] === null);
    let outcomes: Outcome[];
    try {
      const stored = await store.insertMessages(storing.map((send) => send.message));
      let next = 0;
      outcomes = sends.map((send, index) => muted[index] ?? outcomeAtCommit(send, stored[next++]!));
      if (muted.some((refused) => refused !== null) || outcomes.some(isDuplicate)) outcomes = await this.resends(sends, outcomes, muted);
    } catch (error) {
      for (const send of sends) send.reject(error);
      return;
    }
    fanOut.registering(() =>
      sends.forEach((send, index) => {
        const outcome = outcomes[index]!;
        if (outcome instanceof ServerError) this.refuse(send, outcome);
        else this.deliver(send, outcome);
      }),
    );
    scheduler.flushPending();
  }

  /**
   * What the rules for a resend (PROTOCOL.md §7.4) make of a commit's outcomes: a muted sender's resend is
   * answered as the message stored, and a resend of a message to a group its sender has left since is refused.
   */
  private async resends(sends: WaitingSend[], outcomes: Outcome[], muted: (ServerError | null)[]): Promise<Outcome[]> {
    const { store } = this.options;
    return Promise.all(
      outcomes.map(async (outcome, index) => {
        const { senderId, clientMsgId } = sends[index]!.message;
        if (muted[index]) {
          const stored = await store.messageByClientId(senderId, clientMsgId);
          if (stored) outcome = { message: stored, duplicate: true };
        }
        return isDuplicate(outcome) ? ((await resendRefusal(store, { id: senderId }, outcome.message)) ?? outcome) : outcome;
      }),
    );
  }

  private refuse({ requestId, session, resolve }: WaitingSend, refused: ServerError): void {
    this.options.fanOut.afterPushed(this.lastAnswered, () => {
      session.connection.send(refusal(requestId, refused));
      resolve(REFUSED);
    });
  }

  private deliver(send: WaitingSend, outcome: StoredMessage): void {
    const { roster, fanOut } = this.options;
    const { requestId, message, session, resolve } = send;
    const { message: storedMessage, duplicate, eventId, readers } = outcome;
    // A group message goes to its members as the commit found them, not as the send found them.
    const recipients = readers ?? send.recipients;
    if (!duplicate) {
      const frame: PushFrame = { type: 'message', message: storedMessage, ...(eventId !== undefined ? { eventId } : {}) };
      fanOut.push(recipients, frame, session);
    }
    const result: RequestResults['send'] = {
      message: storedMessage,
      duplicate,
      // A duplicate was pushed to nobody now (PROTOCOL.md §7.4).
      delivered: !duplicate && roster.anyoneElseOnline(recipients, message.senderId),
    };
    // In a cluster, not before a lower id from another node reached this node's sessions;
    // the connection's next frame waits for the answer itself, not only for the commit. A duplicate
    // waits for its earlier message's id (a message's event id is its id): stored through another
    // node, say before its sender's app moved here, it may be ahead of what this node pushed, and
    // the app takes the answer's id as seen.
    this.lastAnswered = Math.max(this.lastAnswered, eventId ?? (duplicate ? storedMessage.id : 0));
    fanOut.afterPushed(eventId ?? this.lastAnswered, () => {
      // Reached only now: a clean close before it must not count lower ids this session was never written.
      markSent(session, storedMessage.id);
      session.connection.send({ type: 'res', id: requestId, ok: true, result });
      resolve(ANSWERED);
    });
  }
}

/** A send's fate at its commit: stored (or found stored already), or refused. */
type Outcome = StoredMessage | ServerError;

const isDuplicate = (outcome: Outcome): outcome is StoredMessage => !(outcome instanceof ServerError) && outcome.duplicate;

/**
 * What became of a send that was checked when it arrived: who may write is decided again as the commit
 * stores, and nothing refused there is stored, acknowledged or pushed.
 */
function outcomeAtCommit(send: AddressedSend, outcome: InsertResult): Outcome {
  if ('overDailyQuota' in outcome) return dailyQuotaRefusal(outcome.overDailyQuota.limit, outcome.overDailyQuota.retryAfterMs);
  if (!('notAllowed' in outcome)) return outcome;
  switch (outcome.notAllowed) {
    case 'group':
      return notInGroup(send.message.groupId);
    case 'declined':
      return new ServerError(ErrorCode.CHAT_DECLINED, 'they declined your chat request');
    default:
      return new ServerError(ErrorCode.BANNED, 'you are banned from this room');
  }
}
