/**
 * What the host can do to the room: see who is connected, kick, ban, mute,
 * approve or reject waiting accounts, reset passwords and purge accounts that never wrote. The desktop app's
 * host panel and the headless host's commands both call these. Every action is
 * written to the server log as an "admin" event.
 */
import { randomBytes } from 'node:crypto';
import type { HostSilentAccounts } from '../../../src-shared/api.js';
import { ErrorCode, type WireError } from '../../../src-shared/protocol/errors.js';
import type { PushFrames } from '../../../src-shared/protocol/pushes.js';
import { checkUserName } from '../../../src-shared/text.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import type { AsyncStore, BanRow, UserRow } from '../../store/types.js';
import { type RoomAccess, addressHost, normalizeAddress } from '../access.js';
import { ServerError } from '../errors.js';
import type { ServerLog } from '../log.js';
import type { FanOut } from '../outbound/fan-out.js';
import { hashPassword } from '../password.js';
import type { KeyedQueue } from '../serial.js';
import type { Session } from '../session.js';
import type { FileTransfers } from '../transfer.js';
import type { RoomClock } from '../clock.js';

/** One logged-in connection. */
export interface ConnectedUser {
  name: string;
  /** "host:port" as the server sees it. */
  address: string;
  /** The client's own name and version from hello, if it sent one. */
  client: string | null;
  /** When the connection opened (ms epoch). */
  since: number;
  muted: boolean;
}

export type BanTarget = { name: string } | { address: string };

export interface AdminContext {
  store: AsyncStore;
  clock: RoomClock;
  /** The server's per-user turns (ServerContext.accounts): a ban or reset and a login of that user never interleave. */
  accounts: KeyedQueue<number>;
  log: ServerLog;
  access: RoomAccess;
  passwordCost: number | undefined;
  /** Every open connection of the server. */
  sessions: ReadonlySet<Session>;
  fanOut: FanOut;
  files: FileTransfers | null;
}

const GENERATED_PASSWORD_BYTES = 9;
/** Accounts looked at (and purged) per turn of the event loop: a few milliseconds of work. */
const SILENT_BATCH = 200;
/** Silent accounts listed by name; the rest are counted. */
const SILENT_LISTED = 100;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** setTimeout's longest wait; a longer mute re-arms its end timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The `mute` push for a mute ending at `until` (ms epoch, Infinity: until lifted), or for no mute (null). */
export function mutePush(until: number | null): PushFrames['mute'] {
  if (until === null) return { type: 'mute', muted: false };
  return until === Infinity ? { type: 'mute', muted: true } : { type: 'mute', muted: true, until };
}

export class ServerAdmin {
  /** Name keys of the host's own accounts, which no admin action may hit. */
  private readonly protectedKeys = new Set<string>();
  /** Timers that tell a muted user when a timed mute ends, by user id. */
  private readonly muteEnds = new Map<number, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly context: AdminContext) {
    // Mutes stored before a restart: their users are still told when they end. (A failed start has none to tell.)
    context.access.ready.then(
      () => {
        if (this.closed) return;
        for (const [userId, until] of context.access.muted()) if (until !== Infinity) this.announceMuteEnd(userId, until);
      },
      () => undefined,
    );
  }

  /** Stops the timers that would tell muted users their mute ended: the server is stopping. */
  close(): void {
    this.closed = true;
    for (const timer of this.muteEnds.values()) clearTimeout(timer);
    this.muteEnds.clear();
  }

  /** Marks the host's own account so it cannot be kicked, banned, muted or reset by mistake. */
  protect(name: string): void {
    this.protectedKeys.add(nameKey(name));
  }

  /** Whether the name is the host's own account (which the access mode does not hold back either). */
  isProtected(name: string): boolean {
    return this.protectedKeys.has(nameKey(name));
  }

  connections(): ConnectedUser[] {
    const now = this.context.clock.now();
    const list: ConnectedUser[] = [];
    for (const session of this.context.sessions) {
      if (!session.user || !session.connection.isOpen) continue;
      list.push({
        name: session.user.name,
        address: session.connection.remoteAddress,
        client: session.clientName,
        since: session.openedAt,
        muted: this.context.access.mutedUntil(session.user.id, now) !== null,
      });
    }
    return list.sort((a, b) => nameKey(a.name).localeCompare(nameKey(b.name)) || a.since - b.since);
  }

  async kick(name: string): Promise<number> {
    const user = await this.targetUser(name, 'kick');
    const closed = this.closeAll(user.id, { code: ErrorCode.KICKED, message: 'the host disconnected you' });
    this.record('kick', { user: user.name, connections: closed });
    return closed;
  }

  async ban(target: BanTarget): Promise<void> {
    const now = this.context.clock.now();
    const store = this.context.store;
    if ('name' in target) {
      const name = target.name.normalize('NFC');
      const key = nameKey(name);
      // An account that exists is banned whatever rules its name was registered under.
      const checked = checkUserName(name);
      if (!checked.ok && !(await store.userByKey(key))) throw new ServerError(ErrorCode.NAME_INVALID, checked.reason);
      this.refuseProtected(key, 'ban');
      await store.addBan('name', key, now);
      // Looked up after the ban is stored: an account registered meanwhile either saw the ban or is closed here.
      const user = await store.userByKey(key);
      let closed = 0;
      if (user) {
        closed = await this.context.accounts.run(user.id, async () => {
          await store.deleteSessionsOf(user.id);
          return this.closeAll(user.id, { code: ErrorCode.BANNED, message: 'the host banned you from this room' });
        });
      }
      this.record('ban', { user: user?.name ?? name, connections: closed });
      return;
    }
    const address = this.address(target.address);
    for (const session of this.context.sessions) {
      if (session.user && this.protectedKeys.has(session.user.nameKey) && addressHost(session.connection.remoteAddress) === address) {
        throw new ServerError(ErrorCode.INVALID_TARGET, `${address} is the address of the host's own account`);
      }
    }
    await store.addBan('address', address, now);
    const reason = { code: ErrorCode.BANNED, message: 'the host banned your address from this room' };
    const closed = this.context.fanOut.end({ address }, reason);
    this.record('ban', { address, connections: closed });
  }

  /** Returns whether there was such a ban. */
  async unban(target: BanTarget): Promise<boolean> {
    const removed =
      'name' in target
        ? await this.context.store.removeBan('name', nameKey(target.name.normalize('NFC')))
        : await this.context.store.removeBan('address', this.address(target.address));
    this.record('unban', { ...target, removed });
    return removed;
  }

  bans(): Promise<BanRow[]> {
    return this.context.store.bans();
  }

  /** Mutes for `minutes`, or until unmuted when not given. */
  async mute(name: string, minutes?: number): Promise<void> {
    if (minutes !== undefined && !(minutes > 0)) throw new ServerError(ErrorCode.BAD_REQUEST, 'a mute lasts more than 0 minutes');
    const user = await this.targetUser(name, 'mute');
    const until = minutes === undefined ? Infinity : this.context.clock.now() + minutes * 60_000;
    await this.context.access.mute(user.id, until);
    this.context.fanOut.shareMute(user.id, until);
    this.announceMute(user.id);
    this.record('mute', { user: user.name, ...(minutes !== undefined ? { minutes } : {}) });
  }

  async unmute(name: string): Promise<boolean> {
    const user = await this.knownUser(name);
    const removed = await this.context.access.unmute(user.id);
    if (removed) {
      this.context.fanOut.shareMute(user.id, null);
      this.announceMute(user.id);
    }
    this.record('unmute', { user: user.name, removed });
    return removed;
  }

  /** Tells the user's sessions whether they are muted now, and (for a timed mute) again when it ends. */
  private announceMute(userId: number): void {
    clearTimeout(this.muteEnds.get(userId));
    this.muteEnds.delete(userId);
    const until = this.context.access.mutedUntil(userId);
    this.context.fanOut.push([userId], mutePush(until));
    if (until !== null && until !== Infinity) this.announceMuteEnd(userId, until);
  }

  private announceMuteEnd(userId: number, until: number): void {
    const timer = setTimeout(() => {
      this.muteEnds.delete(userId);
      // The wait may have been cut to MAX_TIMER_MS (or a timer may fire a little early).
      if (this.context.clock.now() < until) this.announceMuteEnd(userId, until);
      else if (this.context.access.mutedUntil(userId) === null) this.context.fanOut.push([userId], mutePush(null));
    }, Math.min(until - this.context.clock.now(), MAX_TIMER_MS));
    timer.unref();
    this.muteEnds.set(userId, timer);
  }

  /** Accounts waiting for approval, oldest first. */
  async pending(): Promise<{ name: string; createdAt: number }[]> {
    return (await this.context.store.pendingUsers()).map((user) => ({ name: user.name, createdAt: user.createdAt }));
  }

  async approve(name: string): Promise<void> {
    const user = await this.pendingUser(name);
    await this.context.store.approveUser(user.id);
    this.record('approve', { user: user.name });
  }

  async reject(name: string): Promise<void> {
    const user = await this.pendingUser(name);
    await this.context.store.deletePendingUser(user.id);
    this.record('reject', { user: user.name });
  }

  /**
   * Sets a new password (a generated one when none is given) and ends every
   * session of the account. Returns the password to hand to the user.
   */
  async resetPassword(name: string, password?: string): Promise<string> {
    const user = await this.targetUser(name, 'reset the password of');
    const next = password ?? randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
    const passwordHash = await hashPassword(next, this.context.passwordCost);
    const closed = await this.context.accounts.run(user.id, async () => {
      await this.context.store.setPasswordHash(user.id, passwordHash);
      await this.context.store.deleteSessionsOf(user.id);
      return this.closeAll(user.id, {
        code: ErrorCode.PASSWORD_CHANGED,
        message: 'the host reset your password; log in with the new one',
      });
    });
    this.record('reset password', { user: user.name, generated: password === undefined, connections: closed });
    return next;
  }

  /**
   * Accounts that never wrote (no message, no group: see SilentAccountStore), not online and not
   * the host's own, created at least `olderThanMinutes` ago if given. Read a batch per turn.
   */
  async silentAccounts(olderThanMinutes?: number): Promise<HostSilentAccounts> {
    const found: HostSilentAccounts = { count: 0, accounts: [] };
    await this.eachSilentBatch(olderThanMinutes, async (batch) => {
      found.count += batch.length;
      for (const user of batch.slice(0, SILENT_LISTED - found.accounts.length)) found.accounts.push({ name: user.name, createdAt: user.createdAt });
    });
    return found;
  }

  /** Deletes the accounts silentAccounts lists, a batch per turn; returns how many. */
  async purgeSilent(olderThanMinutes?: number): Promise<number> {
    let purged = 0;
    await this.eachSilentBatch(olderThanMinutes, async (batch) => {
      purged += (await this.context.store.deleteSilentAccounts(batch.map((user) => user.id))).length;
    });
    this.record('purge silent accounts', { purged, ...(olderThanMinutes !== undefined ? { olderThanMinutes } : {}) });
    return purged;
  }

  /** Walks the silent accounts by id, SILENT_BATCH at a time, yielding the event loop between batches. */
  private async eachSilentBatch(olderThanMinutes: number | undefined, visit: (batch: UserRow[]) => Promise<void>): Promise<void> {
    if (olderThanMinutes !== undefined && !(olderThanMinutes >= 0)) {
      throw new ServerError(ErrorCode.BAD_REQUEST, 'the age is a number of minutes, 0 or more');
    }
    const createdBefore = olderThanMinutes === undefined ? Number.MAX_SAFE_INTEGER : this.context.clock.now() - olderThanMinutes * 60_000;
    let afterId = 0;
    for (;;) {
      const page = await this.context.store.silentAccounts(afterId, createdBefore, SILENT_BATCH);
      if (page.length === 0) return;
      afterId = page.at(-1)!.id;
      // In these users' turns (ServerContext.accounts): none of them can log in between the check and the visit.
      await this.context.accounts.runAll(
        page.map((user) => user.id),
        () => {
          const online = new Set([...this.context.sessions].flatMap((session) => (session.user ? [session.user.id] : [])));
          return visit(page.filter((user) => !online.has(user.id) && !this.protectedKeys.has(user.nameKey)));
        },
      );
      await nextTurn();
    }
  }

  /** Closes the user's connections and transfers, on every node; returns how many connections this node closed. */
  private closeAll(userId: number, reason: WireError): number {
    return this.context.fanOut.end({ userId }, reason);
  }

  private async knownUser(name: string): Promise<UserRow> {
    const user = await this.context.store.userByKey(nameKey(name.normalize('NFC')));
    if (!user) throw new ServerError(ErrorCode.UNKNOWN_USER, `no user named ${name}`);
    return user;
  }

  private async targetUser(name: string, action: string): Promise<UserRow> {
    const user = await this.knownUser(name);
    this.refuseProtected(user.nameKey, action);
    return user;
  }

  private async pendingUser(name: string): Promise<UserRow> {
    const user = await this.knownUser(name);
    if (user.status !== 'pending') throw new ServerError(ErrorCode.INVALID_TARGET, `${user.name} is not waiting for approval`);
    return user;
  }

  private refuseProtected(key: string, action: string): void {
    if (this.protectedKeys.has(key)) throw new ServerError(ErrorCode.INVALID_TARGET, `you cannot ${action} the host's own account`);
  }

  /** An IP address, also given as "address:port" or "[v6]:port" as connections show it. */
  private address(raw: string): string {
    const address = normalizeAddress(raw) ?? normalizeAddress(addressHost(raw.trim()));
    if (!address) throw new ServerError(ErrorCode.BAD_REQUEST, `${raw} is not an IP address`);
    return address;
  }

  private record(action: string, fields: Record<string, unknown>): void {
    this.context.log.info('admin', { action, ...fields });
  }
}
