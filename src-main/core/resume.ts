/**
 * Automatic sign-in: the room you were in is remembered (room.json: where, under which
 * name, and whether this app hosted it; never a password: the login uses the session
 * token that profile-files.ts keeps) and rejoined when the app starts, the host's room
 * restarted first. While it connects, windows are shown the conversations from
 * snapshot.json, the last users, contacts, groups and recent messages seen, so the app
 * opens on the conversations and not on a form. The snapshot is encrypted with the profile's device
 * key (client/e2ee-store.ts), as it holds end-to-end encrypted messages as the device decrypted them. Signing out or stopping the hosted room
 * forgets both files; leaving a joined room keeps them, so the next start rejoins it.
 *
 * ResumingCore wraps the AppCore: the shells talk to it instead. Its calls are the core's
 * with those it must see (join, host, leave, the lists the snapshot keeps…) wrapped, each
 * typed from the App API table, and it sees every event on its way, so the core itself
 * needs no hooks.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AppError, AppEvent, Result, SessionView } from '../../src-shared/api.js';
import { parseCall } from '../../src-shared/api-schema.js';
import { withChangedMessage } from '../../src-shared/message-changes.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { type ChatMessage, type Contact, type GroupInfo, type HistoryPage, type UserInfo, contact, conversationKey, groupInfo, historyPage, messageId, userInfo } from '../../src-shared/protocol/objects.js';
import { type KeySealer, deviceStoreKey, openSealed, saveSealed } from '../client/e2ee-store.js';
import { type CallHandlers, dispatchCall, runCall } from './calls.js';
import { messageOf, ok } from './errors.js';
import { readJson, writeAtomically } from './profile-files.js';

/** Recent messages kept per conversation, and conversations kept, in the snapshot. */
const SNAPSHOT_MESSAGES = 30;
const SNAPSHOT_CONVERSATIONS = 30;
/** Changes are written at most this often (and when the app stops). */
const SNAPSHOT_WRITE_DELAY_MS = 2_000;
/** A room that cannot be reached at start is tried again, waiting this long at first, doubling up to the most. */
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

const lastRoomSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('join'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    alternates: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })).optional(),
    name: z.string().min(1),
    roomName: z.string(),
  }),
  z.strictObject({ kind: z.literal('host'), port: z.number().int().min(1).max(65535), name: z.string().min(1), roomName: z.string().min(1), tls: z.boolean() }),
]);
type LastRoom = z.infer<typeof lastRoomSchema>;

/** A list read item by item: what has its shape is kept; a damaged file only costs the quick start. */
function keptItems<T>(item: z.ZodType<T, unknown>) {
  return z
    .array(z.unknown())
    .catch([])
    .transform((values) =>
      values.flatMap((value) => {
        const parsed = item.safeParse(value);
        return parsed.success ? [parsed.data] : [];
      }),
    );
}

const snapshotSchema = z
  .object({
    users: keptItems(userInfo),
    contacts: keptItems(contact),
    // A snapshot from before invitations has groups without `invited`.
    groups: keptItems(groupInfo.extend({ invited: groupInfo.shape.invited.default([]) })),
    /** The latest page of each conversation, most recently active first. */
    pages: keptItems(
      // A snapshot from before it kept the pages whole has none of how far they were delivered.
      z.object({ conv: conversationKey, page: historyPage.extend({ deliveredUpTo: messageId.default(0) }) }),
    ),
  })
  .catch(() => emptySnapshot());
type Arrival = { message: ChatMessage; changed: boolean };
type Snapshot = { users: UserInfo[]; contacts: Contact[]; groups: GroupInfo[]; pages: { conv: ConversationKey; page: HistoryPage }[] };

/** What the shells need of a core, and what ResumingCore wraps: its calls, by name from a window or as functions. */
export interface Core {
  readonly calls: CallHandlers;
  dispatch(call: unknown, args: unknown): Promise<Result<unknown>>;
  onEvent(listener: (event: AppEvent) => void): () => void;
  shutdown(): Promise<void>;
}

export class ResumingCore implements Core {
  /** The wrapped core's calls, with those that open, close or load what the snapshot keeps seen on their way. */
  readonly calls: CallHandlers;
  private readonly roomFile: string;
  private readonly snapshotFile: string;
  private lastRoom: LastRoom | null;
  private snapshot: Snapshot;
  /** From resume() until its join or host call has answered. */
  private resuming = false;
  /** The current session was restored by resume(); cleared when it ends. */
  private resumed = false;
  /** Why resume() could not restore the room, shown until the next join or host. */
  private failure: AppError | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  /** While resume() waits to try an unreachable host again: why, and how to stop waiting. */
  private retry: { error: AppError; cancel: () => void } | null = null;
  private cancelled = false;
  private readonly listeners = new Set<(event: AppEvent) => void>();
  /** What came while each latest page under way loads, in order: new messages, and changed ones (edits, deletions, reactions). */
  private readonly loading = new Set<Arrival[]>();
  private readonly retryDelays: { minMs: number; maxMs: number };
  /** The key the snapshot is sealed with; null when the profile's key could not be had (the app then keeps none). */
  private readonly snapshotKey: Buffer | null;

  constructor(
    private readonly core: Core,
    profileDir: string,
    /** `sealer`: the shell's keychain, as given to the AppCore, which seals the profile's device key. */
    options: { sealer?: KeySealer | undefined; retryDelays?: { minMs: number; maxMs: number } | undefined } = {},
  ) {
    this.retryDelays = options.retryDelays ?? { minMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS };
    this.roomFile = join(profileDir, 'room.json');
    this.snapshotFile = join(profileDir, 'snapshot.json');
    const stored = lastRoomSchema.safeParse(readJson(this.roomFile));
    this.lastRoom = stored.success ? stored.data : null;
    this.snapshotKey = keyOrNull(profileDir, options.sealer);
    this.snapshot = this.lastRoom ? snapshotSchema.parse(this.readSnapshot()) : emptySnapshot();
    const inner = core.calls;
    this.calls = {
      ...inner,
      join: async (request) => {
        this.stopRetrying();
        return this.remembered('join', await inner.join(request));
      },
      host: async (request) => {
        this.stopRetrying();
        return this.remembered('host', await inner.host(request));
      },
      stopHosting: async () => {
        const stopped = await inner.stopHosting();
        if (stopped.ok) this.forget();
        return stopped;
      },
      leave: () => this.leave('leave'),
      signOut: () => this.leave('signOut'),
      session: async () => {
        const view = await inner.session();
        return view.ok ? ok(this.present(view.value)) : view;
      },
      users: async () =>
        this.restoring() ? ok(this.snapshot.users.map((user) => ({ ...user, online: false }))) : this.kept(await inner.users(), (users) => (this.snapshot.users = users)),
      contacts: async () => (this.restoring() ? ok(this.snapshot.contacts) : this.kept(await inner.contacts(), (contacts) => (this.snapshot.contacts = contacts))),
      groups: async () => (this.restoring() ? ok(this.snapshot.groups) : this.kept(await inner.groups(), (groups) => (this.snapshot.groups = groups))),
      history: async (conv, before, limit) => {
        // Only the latest page is kept, so only it is answered from the snapshot.
        if (before !== undefined) return inner.history(conv, before, limit);
        const kept = this.restoring() ? this.snapshot.pages.find((entry) => entry.conv === conv)?.page : undefined;
        if (kept) return ok(kept);
        // What comes while the page loads may be missing from it (read before), and has no kept page to go to yet.
        const arrived: Arrival[] = [];
        this.loading.add(arrived);
        try {
          return this.kept(await inner.history(conv, before, limit), (latest) => this.keepPage(conv, latest, arrived));
        } finally {
          this.loading.delete(arrived);
        }
      },
    };
    core.onEvent((event) => this.onCoreEvent(event));
  }

  /**
   * Rejoins the remembered room with the saved session token, restarting it first when
   * this app hosted it. A host that cannot be reached is tried again (status 'reconnecting')
   * until it answers or the user joins, hosts, leaves or signs out. A token the server no longer
   * accepts (or none) forgets the room: the start screen then says why.
   */
  async resume(): Promise<Result<SessionView> | null> {
    const room = this.lastRoom;
    if (!room) return null;
    this.resuming = true;
    this.resumed = true;
    this.cancelled = false;
    this.announce();
    let result = await this.attempt(room);
    // A host that is not up yet (or a network not up yet) is tried again until it answers
    // or the user does something else; a room this app hosts has nothing to wait for.
    for (let delay = this.retryDelays.minMs; !result.ok && room.kind === 'join' && result.error.code === 'CONNECT_FAILED'; ) {
      const waited = await this.waitToRetry(result.error, delay);
      if (!waited || this.cancelled) break;
      result = await this.attempt(room);
      delay = Math.min(delay * 2, this.retryDelays.maxMs);
    }
    this.resuming = false;
    // Stopped while waiting: what the user did instead decides what the windows show.
    if (this.cancelled) return result;
    if (!result.ok) {
      this.resumed = false;
      this.failure = result.error;
      // Without a usable token only the password can get back in; anything else (the host
      // is down, the port is taken) may work at the next start.
      if (result.error.code === 'BAD_TOKEN' || result.error.code === 'NO_SAVED_SESSION' || result.error.code === 'INVALID_ARGUMENT') this.forget();
    }
    this.announce();
    return result.ok ? ok(this.present(result.value)) : result;
  }

  /** Hosts or joins the room as remembered; what room.json says is checked as a window's call would be. */
  private async attempt(room: LastRoom): Promise<Result<SessionView>> {
    if (room.kind === 'host') {
      const request = { roomName: room.roomName, port: room.port, name: room.name, password: '', tls: room.tls };
      const checked = parseCall('host', [request]);
      return checked.ok ? runCall(this.core.calls, 'host', [request]) : checked;
    }
    const request = { host: room.host, port: room.port, ...alternatesOf(room), name: room.name, password: '' };
    const checked = parseCall('join', [request]);
    return checked.ok ? runCall(this.core.calls, 'join', [request]) : checked;
  }

  /** Resolves true after the delay, false when the wait was cancelled. */
  private waitToRetry(error: AppError, delayMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.retry = null;
        resolve(true);
      }, delayMs);
      this.retry = {
        error,
        cancel: () => {
          clearTimeout(timer);
          this.retry = null;
          resolve(false);
        },
      };
      this.announce();
    });
  }

  /** The user joins, hosts or leaves herself while resume() waits for the host: it stops waiting. */
  private stopRetrying(): boolean {
    const retry = this.retry;
    if (!retry) return false;
    this.cancelled = true;
    this.resuming = false;
    this.resumed = false;
    retry.cancel();
    return true;
  }

  dispatch(call: unknown, args: unknown): Promise<Result<unknown>> {
    return dispatchCall(this.calls, call, args);
  }

  onEvent(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async shutdown(): Promise<void> {
    this.stopRetrying();
    await this.flushSnapshot();
    await this.core.shutdown();
  }

  /**
   * Leaving keeps the room and its session for the next start; signing out forgets both. A host
   * leaving stops her room as well (and so forgets it), so it never keeps running where she
   * could no longer reach it to stop it.
   */
  private async leave(call: 'leave' | 'signOut'): Promise<Result<void>> {
    if (this.stopRetrying()) {
      // Not in the room yet: leaving only stops the waiting; signing out also ends the saved session.
      const signedOut = call === 'signOut' ? await runCall(this.core.calls, 'signOut', []) : null;
      if (signedOut) this.forget();
      this.announce();
      return signedOut ?? ok(undefined);
    }
    const before = await runCall(this.core.calls, 'session', []);
    const left = await runCall(this.core.calls, call, []);
    const hosting = before.ok && before.value.hosting !== null;
    const stopped = hosting ? await runCall(this.core.calls, 'stopHosting', []) : left;
    if ((call === 'signOut' || hosting) && (left.ok || stopped.ok)) this.forget();
    return hosting && !stopped.ok ? stopped : left;
  }

  /** A resumed session that is not online yet: users, contacts, groups and latest pages come from the snapshot. */
  private restoring(): boolean {
    return this.resuming && this.lastRoom !== null;
  }

  /** An answer the snapshot keeps, once it is a value. */
  private kept<T>(result: Result<T>, keep: (value: T) => void): Result<T> {
    if (result.ok) {
      keep(result.value);
      this.scheduleSnapshot();
    }
    return result;
  }

  /** A room entered by join or host is remembered for the next start. */
  private remembered(call: 'join' | 'host', result: Result<SessionView>): Result<SessionView> {
    if (result.ok) this.remember(call, result.value);
    return result;
  }

  private remember(call: 'join' | 'host', session: SessionView): void {
    if (!session.server || !session.me) return;
    const room: LastRoom =
      call === 'host' && session.hosting
        ? { kind: 'host', port: session.hosting.port, name: session.me, roomName: session.hosting.roomName, tls: session.hosting.fingerprint !== null }
        : { kind: 'join', host: session.server.host, port: session.server.port, ...alternatesOf(session.server), name: session.me, roomName: session.roomName ?? '' };
    const previous = this.lastRoom;
    const sameRoom =
      previous !== null && previous.kind === room.kind && previous.port === room.port && previous.name === room.name &&
      (previous.kind === 'host' || (room.kind === 'join' && previous.host === room.host));
    if (!sameRoom) this.snapshot = emptySnapshot();
    this.lastRoom = room;
    this.failure = null;
    // A join the user made (not resume's own) is a new session, not a restored one.
    if (!this.resuming) this.resumed = false;
    try {
      writeAtomically(this.roomFile, room, 0o600);
    } catch (error) {
      console.error(`lanchat: could not remember the room: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private forget(): void {
    this.lastRoom = null;
    this.resumed = false;
    this.snapshot = emptySnapshot();
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    rmSync(this.roomFile, { force: true });
    rmSync(this.snapshotFile, { force: true });
  }

  private keepPage(conv: ConversationKey, page: HistoryPage, arrived: Arrival[] = []): void {
    // Replayed in order: a change comes after its message, so each message ends as it is now.
    let messages: readonly ChatMessage[] = page.messages;
    for (const { message, changed } of arrived.filter((arrival) => arrival.message.conv === conv)) {
      const next = withChangedMessage(messages, message);
      messages = next !== messages || changed || messages.some((held) => held.id === message.id) ? next : [...messages, message];
    }
    const pages = this.snapshot.pages.filter((entry) => entry.conv !== conv);
    pages.unshift({ conv, page: { ...page, messages: messages.slice(-SNAPSHOT_MESSAGES), hasMore: page.hasMore || messages.length > SNAPSHOT_MESSAGES } });
    this.snapshot.pages = pages.slice(0, SNAPSHOT_CONVERSATIONS);
  }

  /** A new message joins its conversation's page when that page is kept. */
  private keepMessage(message: ChatMessage): void {
    for (const arrived of this.loading) arrived.push({ message, changed: false });
    const entry = this.snapshot.pages.find((candidate) => candidate.conv === message.conv);
    if (!entry || entry.page.messages.some((held) => held.id === message.id)) return;
    this.keepPage(message.conv, { ...entry.page, messages: [...entry.page.messages, message] });
    this.scheduleSnapshot();
  }

  /** A changed message replaces its copy in its kept page, and replies there quote it as it is now. */
  private keepChange(message: ChatMessage): void {
    for (const arrived of this.loading) arrived.push({ message, changed: true });
    const entry = this.snapshot.pages.find((candidate) => candidate.conv === message.conv);
    if (!entry) return;
    const messages = withChangedMessage(entry.page.messages, message);
    if (messages === entry.page.messages) return;
    entry.page = { ...entry.page, messages: [...messages] };
    this.scheduleSnapshot();
  }

  private onCoreEvent(event: AppEvent): void {
    if (event.type === 'message') this.keepMessage(event.message);
    if (event.type === 'event' && event.event.kind !== 'read') this.keepChange(event.event.message);
    if (event.type === 'outbox' && event.status === 'sent' && event.message) this.keepMessage(event.message);
    if (event.type === 'session' && event.session.status === 'offline' && !this.resuming) this.resumed = false;
    const forwarded = event.type === 'session' ? { ...event, session: this.present(event.session) } : event;
    for (const listener of this.listeners) listener(forwarded);
  }

  /** The core's view, with the remembered room filled in while it is being restored. */
  private present(view: SessionView): SessionView {
    const room = this.lastRoom;
    if (this.resuming && room && view.status !== 'online') {
      const waiting = view.status === 'offline' ? this.retry : null;
      return {
        ...view,
        status: waiting ? 'reconnecting' : view.status === 'offline' ? 'connecting' : view.status,
        error: waiting ? waiting.error : view.error,
        me: view.me ?? room.name,
        roomName: view.roomName ?? room.roomName,
        server: view.server ?? (room.kind === 'join' ? { host: room.host, port: room.port, ...alternatesOf(room) } : { host: '127.0.0.1', port: room.port }),
        resumed: true,
      };
    }
    if (this.resumed && view.me !== null) return { ...view, resumed: true };
    if (view.status === 'offline' && view.error === null && this.failure) return { ...view, error: this.failure };
    return view;
  }

  private announce(): void {
    void runCall(this.core.calls, 'session', []).then((result) => {
      if (!result.ok) return;
      const session = this.present(result.value);
      for (const listener of this.listeners) listener({ type: 'session', session });
    });
  }

  private scheduleSnapshot(): void {
    if (this.writeTimer || !this.lastRoom) return;
    this.writeTimer = setTimeout(() => void this.flushSnapshot(), SNAPSHOT_WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  /** The saved snapshot, or nothing: one from before it was encrypted, or sealed with another key, only costs the quick start. */
  private readSnapshot(): unknown {
    if (this.snapshotKey === null) return undefined;
    try {
      return openSealed(readFileSync(this.snapshotFile), this.snapshotKey, this.snapshotFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`lanchat: the saved conversations are not used: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** Written asynchronously: a snapshot holds up to a few hundred messages. */
  private async flushSnapshot(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    if (!this.lastRoom || this.snapshotKey === null) return;
    try {
      await saveSealed(this.snapshotFile, this.snapshotKey, this.snapshot);
    } catch (error) {
      console.error(`lanchat: could not save the conversations: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function keyOrNull(profileDir: string, sealer: KeySealer | undefined): Buffer | null {
  try {
    return deviceStoreKey(profileDir, sealer);
  } catch (error) {
    console.error(`lanchat: the conversations are not saved for the next start: ${messageOf(error)}`);
    return null;
  }
}

function emptySnapshot(): Snapshot {
  return { users: [], contacts: [], groups: [], pages: [] };
}

/** The other addresses of a room on several nodes, as a field to spread (none for a room on one). */
function alternatesOf(where: { alternates?: { host: string; port: number }[] | undefined }): { alternates?: { host: string; port: number }[] } {
  return where.alternates?.length ? { alternates: where.alternates.map(({ host, port }) => ({ host, port })) } : {};
}
