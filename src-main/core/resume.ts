/**
 * Automatic sign-in: the room you were in is remembered (room.json: where, under which
 * name, and whether this app hosted it; never a password: the login uses the session
 * token that profile-files.ts keeps) and rejoined when the app starts, the host's room
 * restarted first. While it connects, windows are shown the conversations from
 * snapshot.json, the last users, contacts, groups and recent messages seen, so the app
 * opens on the conversations and not on a form. Signing out or stopping the hosted room
 * forgets both files; leaving a joined room keeps them, so the next start rejoins it.
 *
 * ResumingCore wraps the AppCore: the shells talk to it instead, and it sees every
 * call and event on their way, so the core itself needs no hooks.
 */
import { withChangedMessage } from '../../src-shared/message-changes.js';
import { rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { AppError, AppEvent, Result, SessionView } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage, Contact, GroupInfo, Page, UserInfo } from '../../src-shared/protocol/objects.js';
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

interface Snapshot {
  users: UserInfo[];
  contacts: Contact[];
  groups: GroupInfo[];
  /** The latest page of each conversation, most recently active first. */
  pages: { conv: ConversationKey; page: Page }[];
}

/** What the shells need of a core. */
export interface Core {
  dispatch(call: unknown, args: unknown): Promise<Result<unknown>>;
  onEvent(listener: (event: AppEvent) => void): () => void;
  shutdown(): Promise<void>;
}

export class ResumingCore implements Core {
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

  constructor(
    private readonly core: Core,
    profileDir: string,
    private readonly retryDelays = { minMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS },
  ) {
    this.roomFile = join(profileDir, 'room.json');
    this.snapshotFile = join(profileDir, 'snapshot.json');
    const stored = lastRoomSchema.safeParse(readJson(this.roomFile));
    this.lastRoom = stored.success ? stored.data : null;
    this.snapshot = this.lastRoom ? readSnapshot(readJson(this.snapshotFile)) : emptySnapshot();
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
    if (this.cancelled) return result as Result<SessionView>;
    if (!result.ok) {
      this.resumed = false;
      this.failure = result.error;
      // Without a usable token only the password can get back in; anything else (the host
      // is down, the port is taken) may work at the next start.
      if (result.error.code === 'BAD_TOKEN' || result.error.code === 'NO_SAVED_SESSION' || result.error.code === 'INVALID_ARGUMENT') this.forget();
    }
    this.announce();
    return result.ok ? { ok: true, value: this.present(result.value as SessionView) } : result;
  }

  private attempt(room: LastRoom): Promise<Result<unknown>> {
    return room.kind === 'host'
      ? this.core.dispatch('host', [{ roomName: room.roomName, port: room.port, name: room.name, password: '', tls: room.tls }])
      : this.core.dispatch('join', [{ host: room.host, port: room.port, ...alternatesOf(room), name: room.name, password: '' }]);
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

  async dispatch(call: unknown, args: unknown): Promise<Result<unknown>> {
    const cached = this.fromSnapshot(call, args);
    if (cached) return cached;
    if ((call === 'leave' || call === 'signOut') && this.stopRetrying()) {
      // Leaving keeps the room for the next start; signing out forgets it and its session.
      const signedOut = call === 'signOut' ? await this.core.dispatch('signOut', []) : null;
      if (signedOut) this.forget();
      this.announce();
      return signedOut ?? { ok: true, value: undefined };
    }
    if (call === 'join' || call === 'host') this.stopRetrying();
    if (call === 'leave' || call === 'signOut') return this.leave(call);
    const result = await this.core.dispatch(call, args);
    if (result.ok) this.observe(call, args, result.value);
    if (call === 'session' && result.ok) return { ok: true, value: this.present(result.value as SessionView) };
    return result;
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
  private async leave(call: 'leave' | 'signOut'): Promise<Result<unknown>> {
    const before = (await this.core.dispatch('session', [])) as Result<SessionView>;
    const left = await this.core.dispatch(call, []);
    const hosting = before.ok && before.value.hosting !== null;
    const stopped = hosting ? await this.core.dispatch('stopHosting', []) : left;
    if ((call === 'signOut' || hosting) && (left.ok || stopped.ok)) this.forget();
    return hosting && !stopped.ok ? stopped : left;
  }

  /** Users, contacts, groups and latest pages from the snapshot while a resumed session is not online yet. */
  private fromSnapshot(call: unknown, args: unknown): Result<unknown> | null {
    if (!this.resuming || !this.lastRoom) return null;
    switch (call) {
      case 'users':
        return { ok: true, value: this.snapshot.users.map((user) => ({ ...user, online: false })) };
      case 'contacts':
        return { ok: true, value: this.snapshot.contacts };
      case 'groups':
        return { ok: true, value: this.snapshot.groups };
      case 'history': {
        const [conv, before] = Array.isArray(args) ? (args as unknown[]) : [];
        if (before !== undefined && before !== null) return null;
        const page = this.snapshot.pages.find((entry) => entry.conv === conv)?.page;
        return page ? { ok: true, value: page } : null;
      }
      default:
        return null;
    }
  }

  private observe(call: unknown, args: unknown, value: unknown): void {
    const list = Array.isArray(args) ? (args as unknown[]) : [];
    switch (call) {
      case 'join':
      case 'host':
        this.remember(call, value as SessionView);
        return;
      case 'stopHosting':
        this.forget();
        return;
      case 'users':
        this.snapshot.users = value as UserInfo[];
        break;
      case 'contacts':
        this.snapshot.contacts = value as Contact[];
        break;
      case 'groups':
        this.snapshot.groups = value as GroupInfo[];
        break;
      case 'history':
        if (list[1] !== undefined && list[1] !== null) return;
        this.keepPage(list[0] as ConversationKey, value as Page);
        break;
      default:
        return;
    }
    this.scheduleSnapshot();
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

  private keepPage(conv: ConversationKey, page: Page): void {
    const pages = this.snapshot.pages.filter((entry) => entry.conv !== conv);
    pages.unshift({ conv, page: { messages: page.messages.slice(-SNAPSHOT_MESSAGES), hasMore: page.hasMore || page.messages.length > SNAPSHOT_MESSAGES } });
    this.snapshot.pages = pages.slice(0, SNAPSHOT_CONVERSATIONS);
  }

  /** A new message joins its conversation's page when that page is kept. */
  private keepMessage(message: ChatMessage): void {
    const entry = this.snapshot.pages.find((candidate) => candidate.conv === message.conv);
    if (!entry || entry.page.messages.some((held) => held.id === message.id)) return;
    this.keepPage(message.conv, { messages: [...entry.page.messages, message], hasMore: entry.page.hasMore });
    this.scheduleSnapshot();
  }

  /** A changed message replaces its copy in its kept page, and replies there quote it as it is now. */
  private keepChange(message: ChatMessage): void {
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
      const waiting = view.status === 'offline' && this.retry !== null;
      return {
        ...view,
        status: waiting ? 'reconnecting' : view.status === 'offline' ? 'connecting' : view.status,
        error: waiting ? this.retry!.error : view.error,
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
    void this.core.dispatch('session', []).then((result) => {
      if (!result.ok) return;
      const session = this.present(result.value as SessionView);
      for (const listener of this.listeners) listener({ type: 'session', session });
    });
  }

  private scheduleSnapshot(): void {
    if (this.writeTimer || !this.lastRoom) return;
    this.writeTimer = setTimeout(() => void this.flushSnapshot(), SNAPSHOT_WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  /** Written asynchronously: a snapshot holds up to a few hundred messages. */
  private async flushSnapshot(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    if (!this.lastRoom) return;
    const temporary = `${this.snapshotFile}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, JSON.stringify(this.snapshot), { mode: 0o600 });
      await rename(temporary, this.snapshotFile);
    } catch (error) {
      console.error(`lanchat: could not save the conversations: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function emptySnapshot(): Snapshot {
  return { users: [], contacts: [], groups: [], pages: [] };
}

/** Keeps what has the expected shape; a damaged file only costs the quick start. */
function readSnapshot(stored: unknown): Snapshot {
  const snapshot = emptySnapshot();
  if (typeof stored !== 'object' || stored === null) return snapshot;
  const value = stored as Record<string, unknown>;
  const objects = (field: unknown): Record<string, unknown>[] =>
    Array.isArray(field) ? field.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];
  snapshot.users = objects(value.users).filter((user) => typeof user.name === 'string') as unknown as UserInfo[];
  snapshot.contacts = objects(value.contacts).filter((contact) => typeof contact.conv === 'string') as unknown as Contact[];
  // A snapshot from before invitations has groups without `invited`.
  snapshot.groups = objects(value.groups)
    .filter((group) => typeof group.conv === 'string' && Array.isArray(group.members))
    .map((group) => ({ ...group, invited: Array.isArray(group.invited) ? group.invited : [] })) as unknown as GroupInfo[];
  snapshot.pages = objects(value.pages).filter(
    (entry) => typeof entry.conv === 'string' && typeof entry.page === 'object' && entry.page !== null && Array.isArray((entry.page as Page).messages),
  ) as unknown as Snapshot['pages'];
  return snapshot;
}

/** The other addresses of a room on several nodes, as a field to spread (none for a room on one). */
function alternatesOf(where: { alternates?: { host: string; port: number }[] | undefined }): { alternates?: { host: string; port: number }[] } {
  return where.alternates?.length ? { alternates: where.alternates.map(({ host, port }) => ({ host, port })) } : {};
}
