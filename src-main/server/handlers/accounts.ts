/** hello, login (and registration), logout, changePassword, users. */
import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { CALL_FEATURE, CONVERSATION_FEATURES, GROUP_FEATURES, PROTOCOL_MAJOR, PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { checkUserName, lookalikeSkeletons, nameSkeleton } from '../../../src-shared/text.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { StoreConflictError, type UserRow } from '../../store/types.js';
import { addressHost, throttleAddress } from '../access.js';
import { FollowedBy, type Handlers, type ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { ScryptQueue, type ScryptLane, hashPassword, verifyPassword } from '../password.js';
import type { Session } from '../session.js';
import { mutePush } from './admin.js';

export const SERVER_NAME = 'lanchat/0.1.0';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function accountHandlers(ctx: ServerContext) {
  const { store, log, throttles } = ctx;
  const throttle = throttles.login;
  const scrypt = new ScryptQueue();

  /**
   * What a password check from the address counts against and is blocked by (PROTOCOL.md §7.2.1). A failure
   * counts for the name from this address, the name and the address. The name's own count does not block an
   * address the account logged in from: guesses from elsewhere must not lock its owner out of her own device.
   */
  function passwordKeys(key: string, address: string): PasswordKeys {
    const from = throttleAddress(address);
    const pair = `name:${key}@${from}`;
    const name = `name:${key}`;
    const known = throttles.knownAddresses.has(key, from);
    return {
      counted: [pair, name, `address:${from}`],
      blocking: known ? [pair, `address:${from}`] : [pair, name, `address:${from}`],
      running: [pair, name],
      lane: known ? 'known' : 'login',
    };
  }

  /**
   * Refuses a login of an account that logged in too often just now (a client cycling its
   * logins makes every online user hear of it). `take` is false for the early check before
   * the password check, which would otherwise be spent on a login that cannot pass.
   */
  function refuseLoginRate(key: string, name: string, address: string, take: boolean): void {
    // Successful logins only: others' failed guesses must not lock the account's owner out.
    const wait = take ? throttles.take('accountLogins', key) : throttles.peek('accountLogins', key);
    if (wait === 0) return;
    log.warn('login refused', { user: name, address, reason: 'login rate' });
    throw new ServerError(ErrorCode.RATE_LIMITED, `${name} logged in too often just now; try again in ${Math.ceil(wait / 1000)} s`, wait);
  }

  /** scrypt work for the session, in its turn; dropped if the connection is gone by then. */
  function queued<T>(session: Session, lane: ScryptLane, work: () => Promise<T>): Promise<T> {
    return scrypt.run(lane, () => session.connection.isOpen, work);
  }

  /**
   * Refuses a registration over the address's or the room's rate, or else takes its place in both until
   * it ends: one under way counts, so a burst cannot pass the rate while its passwords are hashed.
   */
  function reserveRegistration(name: string, address: string): void {
    const byAddress = throttles.peek('addressRegistrations', throttleAddress(address));
    const wait = byAddress || throttles.peek('roomRegistrations', 'room');
    if (wait === 0) {
      throttles.take('addressRegistrations', throttleAddress(address));
      throttles.take('roomRegistrations', 'room');
      return;
    }
    log.warn('registration refused', { user: name, address, reason: byAddress ? 'address rate' : 'room rate' });
    throw new ServerError(
      ErrorCode.RATE_LIMITED,
      `too many new accounts ${byAddress ? 'from your address' : 'in this room'} just now; try again in ${Math.ceil(wait / 1000)} s`,
      wait,
    );
  }

  /** Only accounts created count (§7.2): a registration refused after its reservation gives its place back. */
  function releaseRegistration(address: string): void {
    throttles.giveBack('addressRegistrations', throttleAddress(address));
    throttles.giveBack('roomRegistrations', 'room');
  }

  /**
   * Runs a password or passphrase check counted as under way for the throttle while it runs.
   * Only under the name: many people behind one address (an office NAT, every client after the
   * host restarts) log in at once, and counting their checks by address would refuse them all.
   */
  async function throttledCheck(keys: PasswordKeys, check: () => Promise<boolean>): Promise<boolean> {
    const done = throttle.begin(keys.running);
    try {
      return await check();
    } finally {
      done();
    }
  }

  function refuseThrottled(throttleKeys: string[], name: string, address: string): void {
    const retryAfterMs = throttle.retryAfterMs(throttleKeys);
    if (retryAfterMs <= 0) return;
    log.warn('login throttled', { user: name, address, retryAfterMs });
    throw new ServerError(
      ErrorCode.TOO_MANY_ATTEMPTS,
      `too many failed attempts; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
      retryAfterMs,
    );
  }

  async function refuseBanned(key: string, address: string): Promise<void> {
    if (!(await store.isBanned('name', key)) && !(await store.isBanned('address', addressHost(address)))) return;
    log.warn('login refused', { user: key, address, reason: 'banned' });
    throw new ServerError(ErrorCode.BANNED, 'the host banned this account or address from the room');
  }

  /**
   * The account as it is after a password check: a password change, a host reset or a ban
   * that happened while scrypt ran must not be undone by a login that began before it.
   */
  async function recheckAfterAwait(checked: UserRow, address: string): Promise<UserRow> {
    await refuseBanned(checked.nameKey, address);
    const now = await store.userById(checked.id);
    if (!now) {
      log.warn('failed login', { user: checked.name, address, reason: 'account deleted during the check' });
      throw new ServerError(ErrorCode.UNKNOWN_USER, `no account named ${checked.name}`);
    }
    if (now.passwordHash !== checked.passwordHash) {
      log.warn('failed login', { user: checked.name, address, reason: 'password changed during the check' });
      throw new ServerError(ErrorCode.WRONG_PASSWORD, `the password of ${checked.name} was just changed; log in with the new one`);
    }
    return now;
  }

  /** Creates the account as the access mode allows: at once, with the room passphrase, or pending approval. */
  async function register(
    session: Session,
    name: string,
    password: string,
    address: string,
    passphrase: string | undefined,
    keys: PasswordKeys,
  ): Promise<UserRow> {
    if ([...name].length > ctx.limits.maxNameLength) {
      throw new ServerError(ErrorCode.NAME_INVALID, `a name has at most ${ctx.limits.maxNameLength} characters in this room`);
    }
    const skeleton = nameSkeleton(name);
    const lookalike = (await Promise.all(lookalikeSkeletons(name).map((candidate) => store.userBySkeleton(candidate)))).find(
      (user) => user !== undefined,
    );
    if (lookalike) {
      log.warn('registration refused', { user: name, address, reason: `looks like ${lookalike.name}` });
      throw new ServerError(ErrorCode.NAME_TAKEN, `the name ${name} is too close to the existing user ${lookalike.name}`);
    }
    await ctx.access.ready;
    // The host's own account joins its own room whatever the mode and the registration rate.
    const hostAccount = ctx.isHostAccount(name);
    if (!hostAccount) reserveRegistration(name, address);
    const mode = hostAccount ? 'open' : ctx.access.mode;
    const status = mode === 'approval' ? 'pending' : 'active';
    let user: UserRow;
    try {
      // Wrong passphrases also count for the room as a whole: rotating addresses and names gains nothing.
      if (mode === 'passphrase') refuseThrottled([...keys.blocking, 'room:passphrase'], name, address);
      if (mode === 'passphrase' && !(await throttledCheck(keys, () => queued(session, 'register', () => ctx.access.passphraseMatches(passphrase))))) {
        throttles.recordFailure([...keys.counted, 'room:passphrase']);
        log.warn('registration refused', { user: name, address, reason: passphrase ? 'wrong passphrase' : 'no passphrase' });
        throw new ServerError(
          ErrorCode.PASSPHRASE_REQUIRED,
          passphrase ? 'wrong room passphrase; ask the host for it' : 'this room needs its passphrase to create an account',
        );
      }
      if (status === 'pending' && (await store.pendingUsers()).length >= ctx.limits.maxPendingAccounts) {
        log.warn('registration refused', { user: name, address, reason: 'too many pending accounts' });
        throw new ServerError(ErrorCode.LIMIT_REACHED, 'too many new accounts wait for the host’s approval; try again later');
      }
      const passwordHash = await queued(session, 'register', () => hashPassword(password, ctx.passwordCost));
      user = await store.createUser({ name, nameKey: nameKey(name), skeleton, passwordHash, createdAt: ctx.clock.now(), status });
    } catch (error) {
      if (!hostAccount) releaseRegistration(address);
      if (error instanceof StoreConflictError) throw new ServerError(ErrorCode.NAME_TAKEN, `the name ${name} was just taken`);
      throw error;
    }
    if (status === 'pending') {
      log.info('registration pending', { user: name, address });
      throw pendingApproval(name);
    }
    log.info('registration', { user: name, address });
    return user;
  }

  return {
    hello: (session, request) => {
      const [major, minor] = request.protocol.split('.').map(Number);
      if (major !== PROTOCOL_MAJOR) {
        const message = `this server speaks protocol ${PROTOCOL_VERSION}; client speaks ${request.protocol}`;
        log.warn('protocol mismatch', { address: session.connection.remoteAddress, client: request.protocol });
        session.closeAfterReply = { code: ErrorCode.PROTOCOL_VERSION, message };
        throw new ServerError(ErrorCode.PROTOCOL_VERSION, message);
      }
      session.helloDone = true;
      session.clientName = request.client ?? null;
      session.protocolMinor = minor!;
      return {
        protocol: PROTOCOL_VERSION,
        server: SERVER_NAME,
        room: ctx.roomName,
        heartbeatMs: ctx.announced.heartbeatMs,
        maxFrameBytes: ctx.announced.maxFrameBytes,
        maxTextLength: ctx.announced.maxTextLength,
        limits: ctx.announced,
        features: [...CONVERSATION_FEATURES, ...GROUP_FEATURES, ...(ctx.files ? ['files'] : []), 'mls', CALL_FEATURE],
      };
    },

    login: async (session, request) => {
      if (session.user) throw new ServerError(ErrorCode.ALREADY_LOGGED_IN, `already logged in as ${session.user.name}`);
      const address = session.connection.remoteAddress;
      const checked = checkUserName(request.name);
      if (!checked.ok) throw new ServerError(ErrorCode.NAME_INVALID, checked.reason);
      const key = nameKey(checked.name);
      await refuseBanned(key, address);
      const keys = passwordKeys(key, address);
      // A token is unguessable: failed password guesses by others must not lock its owner out.
      if (request.token === undefined) refuseThrottled(keys.blocking, checked.name, address);
      refuseLoginRate(key, checked.name, address, false);
      const existing = await store.userByKey(key);
      const badToken = (): ServerError => {
        log.warn('failed login', { user: checked.name, address, reason: 'bad token' });
        return new ServerError(ErrorCode.BAD_TOKEN, 'this session has ended; log in with your password');
      };
      let user: UserRow;
      let registered = false;
      if (request.token !== undefined) {
        if (!existing) throw badToken();
        user = existing;
      } else if (existing) {
        const password = request.password!;
        if (!(await throttledCheck(keys, () => queued(session, keys.lane, () => verifyPassword(password, existing.passwordHash))))) {
          throttles.recordFailure(keys.counted);
          log.warn('failed login', { user: existing.name, address, reason: 'wrong password' });
          throw new ServerError(ErrorCode.WRONG_PASSWORD, `wrong password for ${existing.name}`);
        }
        user = existing;
      } else {
        // A retry after PENDING_APPROVAL must not make the account again once the host rejected it.
        if (request.create === false) throw new ServerError(ErrorCode.UNKNOWN_USER, `no account named ${checked.name}`);
        user = await register(session, checked.name, request.password!, address, request.passphrase, keys);
        registered = true;
      }
      // From the last checks to the session's registration, in the user's turn: a password change,
      // reset or ban waits for it (and then closes the session) or comes first (and this login fails).
      return ctx.accounts.run(user.id, async () => {
        let token: string;
        if (request.token !== undefined) {
          if ((await store.sessionUserId(sha256(request.token))) !== user.id) throw badToken();
          await refuseBanned(key, address);
          refuseLoginRate(key, user.name, address, true);
          token = request.token;
        } else {
          if (registered) await refuseBanned(key, address);
          else {
            user = await recheckAfterAwait(user, address);
            if (user.status === 'pending') throw pendingApproval(user.name);
          }
          refuseLoginRate(key, user.name, address, true);
          for (const counted of keys.running) throttles.reset(counted);
          token = randomBytes(32).toString('base64url');
          await store.createSession(sha256(token), user.id, ctx.clock.now());
        }
        if (registered) await store.setDeliveredCursor(user.id, await store.lastMessageId());
        // Nothing is awaited from this check to the registration: a session that closed is never registered.
        if (!session.connection.isOpen) throw new ServerError(ErrorCode.INTERNAL, 'connection closed during login');
        session.user = user;
        session.tokenHash = sha256(token);
        throttles.loggedInFrom(key, throttleAddress(address));
        log.info('login', { user: user.name, address, client: session.clientName });
        await ctx.roster.join(session, user);
        const result = {
          name: user.name,
          registered,
          token,
          lastMessageId: await store.lastMessageId(),
          deliveredUpTo: await store.deliveredCursor(user.id),
          lastEventId: await store.lastEventId(),
        };
        const mutedUntil = ctx.access.mutedUntil(user.id);
        if (mutedUntil === null) return result;
        // A muted user learns it right after the login answer, not on the first send.
        return new FollowedBy(result, [mutePush(mutedUntil)]);
      });
    },

    changePassword: async (session, request) => {
      const me = session.user;
      const address = session.connection.remoteAddress;
      const keys = passwordKeys(me.nameKey, address);
      refuseThrottled(keys.blocking, me.name, address);
      const stored = (await store.userById(me.id))!;
      if (!(await throttledCheck(keys, () => queued(session, keys.lane, () => verifyPassword(request.current, stored.passwordHash))))) {
        throttles.recordFailure(keys.counted);
        log.warn('password change refused', { user: me.name, address, reason: 'wrong current password' });
        throw new ServerError(ErrorCode.WRONG_PASSWORD, 'the current password is wrong');
      }
      const passwordHash = await queued(session, 'login', () => hashPassword(request.password, ctx.passwordCost));
      const closed = await ctx.accounts.run(me.id, async () => {
        await store.setPasswordHash(me.id, passwordHash);
        await store.deleteSessionsOf(me.id, session.tokenHash ?? undefined);
        const reason = { code: ErrorCode.PASSWORD_CHANGED, message: 'your password was changed on another device; log in with the new one' };
        return ctx.fanOut.end({ userId: me.id, keepToken: session.tokenHash ?? undefined }, reason, session);
      });
      log.info('password changed', { user: me.name, address, otherConnectionsClosed: closed });
      return {};
    },

    logout: async (session) => {
      const reason = { code: ErrorCode.LOGGED_OUT, message: 'logged out' };
      if (session.tokenHash) {
        await store.deleteSession(session.tokenHash);
        ctx.fanOut.end({ token: session.tokenHash }, reason);
      }
      log.info('logout', { user: session.user.name });
      session.closeAfterReply = reason;
      return {};
    },

    users: async () => ({
      users: (await store.listUsers()).map((user) => ({
        name: user.name,
        online: ctx.roster.isOnline(user.id),
        lastSeen: user.lastSeen,
      })),
    }),
  } satisfies Pick<Handlers, 'hello' | 'login' | 'changePassword' | 'logout' | 'users'>;
}

interface PasswordKeys {
  /** What a failure counts against. */
  counted: string[];
  /** What refuses the attempt while blocked. */
  blocking: string[];
  /** What a check under way counts against as a failure to come (never the address, see throttledCheck). */
  running: string[];
  /** An owner's own address goes ahead of guesses from elsewhere in the password checks' line. */
  lane: ScryptLane;
}

function pendingApproval(name: string): ServerError {
  return new ServerError(ErrorCode.PENDING_APPROVAL, `the account ${name} waits for the host's approval; try again later`);
}
