/**
 * What the room tells the client, passed on as events: one handler per push type, in a table the
 * compiler checks against the protocol's (a push type added to src-shared/protocol/pushes.ts does not
 * compile until it is handled here), and every message and event log entry once and in order, whether
 * pushed live or fetched by the catch-up after a login, with the pushes that arrive meanwhile held
 * until it is done.
 */
import type { WireError } from '../../src-shared/protocol/errors.js';
import type { ChatMessage, ConversationEvent, EventPage, Page } from '../../src-shared/protocol/objects.js';
import type { PushFrame, PushFrames } from '../../src-shared/protocol/pushes.js';
import type { Connection } from '../net/connection.js';

/** Pushes the client passes on as they are, one event each. */
type ForwardedPush =
  | 'presence'
  | 'chatRequest'
  | 'chatAnswer'
  | 'chatLeft'
  | 'group'
  | 'groupRemoved'
  | 'delivered'
  | 'typing'
  | 'mute'
  | 'groupInvitations'
  | 'mls'
  | 'deviceReady'
  | 'keyPackagesLow'
  | 'call'
  | 'callSignal';

/** The client's events that come from the room (client.ts adds those of the link). */
export type InboxEvents = { [K in ForwardedPush]: [PushFrames[K]] } & {
  /**
   * Every message once: live, caught up after a reconnect, and your own once stored. Others' come in id
   * order; your own may come after a higher id (a resend answered with its earlier id): place by id.
   */
  message: [ChatMessage];
  /** Every other entry of the event log (edit, delete, reaction, read) once, in log order, live or caught up (§17). */
  event: [ConversationEvent];
  /** A connection-level error from the server (a frame it could not read). */
  serverError: [WireError];
};

/** Where the inbox's events go: the client, which emits them as its own. */
export interface InboxEmitter {
  emit<K extends keyof InboxEvents>(type: K, ...args: InboxEvents[K]): boolean;
}

type PushHandlers = { [K in keyof PushFrames]: (push: PushFrames[K], connection: Connection) => void };

/** Runs the push's own handler: the table indexed by its type holds the handler of exactly that push. */
function handle<K extends keyof PushFrames>(handlers: PushHandlers, type: K, push: PushFrames[K], connection: Connection): void {
  handlers[type](push, connection);
}

/** A push held during catch-up: a message (with its log entry, if the server gave one) or another log entry. */
type Held = { message: ChatMessage; eventId?: number | undefined; own?: boolean } | { event: ConversationEvent };

/** What the catch-up asks of the link. */
export interface CatchUpLink {
  /** The login's answer: the newest log entry (protocol 1.1) and how far the account got (§11.1). */
  login: { lastEventId?: number | undefined; deliveredUpTo: number };
  /** The first page of the log, asked for in the login's write; null when it was not. */
  firstPage: Promise<EventPage> | null;
  events(after: number): Promise<EventPage>;
  sync(after: number): Promise<Page>;
  isOpen(): boolean;
}

/** What the inbox needs to know of your own messages. */
export interface OwnMessages {
  /** The name you logged in as. */
  me(): string | undefined;
  /** Whether a message with this client id is still waiting for its answer. */
  sending(clientMsgId: string): boolean;
}

export class Inbox {
  /** Highest message id emitted; pushes at or below it are repeats. */
  private cursor: number | undefined;
  /** Highest event log entry applied (protocol 1.1); undefined until the first login to a 1.1 server. */
  private eventCursor: number | undefined;
  /**
   * Ids of our own messages still in the outbox that a catch-up or push showed already (stored, their
   * answer lost with a link): the resend's answer, a duplicate with that id, is then not shown again.
   */
  private readonly shownBeforeAnswer = new Set<number>();
  /** Pushes held while catching up, so they come out in order after the caught-up ones. */
  private held: Held[] | null = null;

  private readonly handlers = {
    message: (push) => this.takeMessage(push.message, push.eventId),
    event: (push) => {
      if (this.held) this.held.push({ event: push.event });
      else this.applyEvent(push.event);
    },
    ping: (_push, connection) => connection.send({ type: 'pong' }),
    pong: () => undefined,
    error: (push) => this.events.emit('serverError', push.error),
    bye: (push, connection) => connection.destroy(push.error),
    presence: (push) => this.events.emit('presence', push),
    chatRequest: (push) => this.events.emit('chatRequest', push),
    chatAnswer: (push) => this.events.emit('chatAnswer', push),
    chatLeft: (push) => this.events.emit('chatLeft', push),
    group: (push) => this.events.emit('group', push),
    groupRemoved: (push) => this.events.emit('groupRemoved', push),
    delivered: (push) => this.events.emit('delivered', push),
    mute: (push) => this.events.emit('mute', push),
    typing: (push) => this.events.emit('typing', push),
    groupInvitations: (push) => this.events.emit('groupInvitations', push),
    // Ordered per conversation by its seq, not by message id: the encrypted layer (e2ee.ts) puts it in order.
    mls: (push) => this.events.emit('mls', push),
    deviceReady: (push) => this.events.emit('deviceReady', push),
    keyPackagesLow: (push) => this.events.emit('keyPackagesLow', push),
    // Calls (§21): live state, never held by a catch-up (a call's line in the history is a message).
    call: (push) => this.events.emit('call', push),
    callSignal: (push) => this.events.emit('callSignal', push),
  } satisfies PushHandlers;

  constructor(
    private readonly events: InboxEmitter,
    private readonly own: OwnMessages,
    lastMessageId: number | undefined,
    lastEventId: number | undefined,
  ) {
    this.cursor = lastMessageId;
    this.eventCursor = lastEventId;
  }

  /** The highest message id passed on, 0 before any. */
  get lastMessageId(): number {
    return this.cursor ?? 0;
  }

  /** The newest event log entry applied, or undefined before the first login to a protocol 1.1 server. */
  get lastEventId(): number | undefined {
    return this.eventCursor;
  }

  push(push: PushFrame, connection: Connection): void {
    handle(this.handlers, push.type, push, connection);
  }

  /** From a login on, pushes are held: they cannot move the cursor past messages not caught up yet. */
  hold(): void {
    this.held = [];
  }

  /** The login failed: what was held is fetched again by the next catch-up. */
  dropHeld(): void {
    this.held = null;
  }

  /**
   * Fetches what happened while away, then passes on what was held: every entry of the event log
   * after the event cursor (protocol 1.1), or else every message after the message cursor.
   */
  async catchUp(link: CatchUpLink): Promise<void> {
    const serverLastEvent = link.login.lastEventId;
    // A server whose log ends before our cursor is not the one we followed (its data was replaced):
    // the page asked for with the login is then not used.
    const byEvents = serverLastEvent !== undefined && this.eventCursor !== undefined && this.eventCursor <= serverLastEvent;
    if (byEvents) {
      // A first page the host refused (say, its page limit went down) is asked for again, as the next
      // one is; one lost with the link is not.
      let page = link.firstPage
        ? await link.firstPage.catch((error: unknown) => {
            if (!link.isOpen()) throw error;
            return null;
          })
        : null;
      for (;;) {
        page ??= await link.events(this.eventCursor ?? 0);
        for (const event of page.events) this.applyEvent(event);
        if (!page.hasMore) break;
        page = null;
      }
    } else {
      // Without a cursor of its own, from how far the account got (§11.1). Not when catching up by the
      // log: deliveredUpTo counts what was written to a link that went before it was read, and the log's
      // messages at or below it would be skipped as held.
      this.cursor ??= link.login.deliveredUpTo;
      for (;;) {
        const page = await link.sync(this.cursor ?? 0);
        for (const message of page.messages) this.emitMessage(message);
        if (!page.hasMore) break;
      }
      // Entries after the login's arrive as pushes; the messages before it came from sync.
      this.eventCursor = serverLastEvent;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const item of held) {
      if ('event' in item) this.applyEvent(item.event);
      else this.emitMessage(item.message, item.eventId, item.own);
    }
  }

  /** Passes a message on now, or after the catch-up under way. `own`: the answer to our send. */
  takeMessage(message: ChatMessage, eventId?: number, own = false): void {
    if (this.held) this.held.push({ message, eventId, own });
    else this.emitMessage(message, eventId, own);
  }

  /** `own`: the answer to our send, emitted even at or below the cursor (the app places it by id). */
  private emitMessage(message: ChatMessage, eventId?: number, own = false): void {
    if (eventId !== undefined && eventId > (this.eventCursor ?? 0)) this.eventCursor = eventId;
    if (this.cursor !== undefined && message.id <= this.cursor) {
      if (own && !this.shownBeforeAnswer.delete(message.id)) this.events.emit('message', message);
      return;
    }
    this.cursor = message.id;
    if (!own && message.from === this.own.me() && this.own.sending(message.clientMsgId)) this.shownBeforeAnswer.add(message.id);
    this.events.emit('message', message);
  }

  /** Applies one log entry once: entries at or below the event cursor were applied already. */
  private applyEvent(event: ConversationEvent): void {
    if (this.eventCursor !== undefined && event.eventId <= this.eventCursor) return;
    if (event.kind === 'message') {
      this.emitMessage(event.message, event.eventId);
      return;
    }
    this.eventCursor = event.eventId;
    this.events.emit('event', event);
  }
}
