/**
 * Login throttling: failed logins are counted per key (a name from one address, a name,
 * a remote address); past a number of free failures each further one blocks the key for
 * a delay that doubles up to a cap. A blocked key is refused at once, before
 * any password hashing, so guessing costs the server nothing. Checks still
 * running count as failures to come, so guesses sent in parallel (on many
 * connections, before any of them has failed) cannot slip past the count.
 * RoomThrottles holds the room's throttles (these, and the registration and login rates) and, in a
 * cluster, tells the other nodes what it counted and counts what they tell it.
 */
import { KeyedBuckets } from './rate-limit.js';
import type { RoomLimits } from './access.js';

export interface ThrottleOptions {
  /** Failures allowed before delays start. */
  freeFailures?: number;
  /** Delay after the first failure past the free ones; each further failure doubles it. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A key with no failure for this long starts over. */
  forgetAfterMs?: number;
  /** Keys remembered at most; the oldest are dropped first, so guessing many names cannot fill memory. */
  maxKeys?: number;
}

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailureAt: number;
}

export class LoginThrottle {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly entries = new Map<string, Entry>();
  /** Password checks under way per key. */
  private readonly inFlight = new Map<string, number>();

  constructor(options: ThrottleOptions = {}) {
    this.freeFailures = options.freeFailures ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.forgetAfterMs = options.forgetAfterMs ?? Math.max(15 * 60_000, 2 * this.maxDelayMs);
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Milliseconds until any of the keys may try again; 0 when none is blocked. */
  retryAfterMs(keys: readonly string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const entry = this.current(key, now);
      if (entry) wait = Math.max(wait, entry.blockedUntil - now);
      const running = this.inFlight.get(key) ?? 0;
      // Were every running check to fail, the key would be at its limit already.
      if (running > 0 && (entry?.failures ?? 0) + running >= this.freeFailures) wait = Math.max(wait, this.baseDelayMs);
    }
    return wait;
  }

  /** Marks a password check under way for the keys; call the returned function when it is done. */
  begin(keys: readonly string[]): () => void {
    for (const key of keys) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const key of keys) {
        const running = (this.inFlight.get(key) ?? 1) - 1;
        if (running > 0) this.inFlight.set(key, running);
        else this.inFlight.delete(key);
      }
    };
  }

  recordFailure(keys: readonly string[], now = Date.now()): void {
    for (const key of keys) {
      const entry = this.current(key, now) ?? { failures: 0, blockedUntil: 0, lastFailureAt: now };
      entry.failures += 1;
      entry.lastFailureAt = now;
      const over = entry.failures - this.freeFailures;
      if (over >= 0) entry.blockedUntil = now + Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(over, 30));
      // Re-inserting moves the key to the end: the map's order is least recently failed first.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && now - entry.lastFailureAt > this.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

/**
 * The addresses each account logged in from, with its password or a token: what proves a login
 * comes from its owner's own device, whose password checks others' wrong guesses must not block
 * (PROTOCOL.md §7.2.1). The most recent few per account, for the accounts that logged in last.
 */
export class KnownAddresses {
  private readonly byAccount = new Map<string, string[]>();

  constructor(
    private readonly maxAccounts = 10_000,
    private readonly perAccount = 8,
  ) {}

  add(account: string, address: string): void {
    const addresses = (this.byAccount.get(account) ?? []).filter((known) => known !== address);
    addresses.push(address);
    if (addresses.length > this.perAccount) addresses.shift();
    // Re-inserting moves the account to the end: the map's order is least recently logged in first.
    this.byAccount.delete(account);
    this.byAccount.set(account, addresses);
    if (this.byAccount.size > this.maxAccounts) this.byAccount.delete(this.byAccount.keys().next().value!);
  }

  has(account: string, address: string): boolean {
    return this.byAccount.get(account)?.includes(address) ?? false;
  }
}

/** The rates counted per key across the room: new accounts (the room's, an address's), successful logins of an account. */
export type RoomRate = 'roomRegistrations' | 'addressRegistrations' | 'accountLogins';

/** What one node counted, for the others to count too (BusMessage 'throttle'). */
export type ThrottleEvent =
  | { op: 'failures'; keys: string[] }
  | { op: 'reset'; key: string }
  | { op: 'known'; account: string; address: string }
  | { op: 'take' | 'giveBack'; rate: RoomRate; key: string };

/**
 * The room's login throttle and rates. Each node counts what it sees and what the other nodes tell it
 * (`heard`), so behind a balancer the limits hold for the room, not per node; what it counts itself it
 * tells them (`share`). Two nodes that count at the same instant may each let one through before hearing
 * of the other's; checks under way (LoginThrottle.begin) are counted per node.
 */
export class RoomThrottles {
  readonly login: LoginThrottle;
  /** The addresses each account logged in from, on any node: the name's count does not block them. */
  readonly knownAddresses = new KnownAddresses();
  private readonly rates: Record<RoomRate, KeyedBuckets>;

  constructor(
    options: ThrottleOptions | undefined,
    limits: Pick<RoomLimits, 'registrationsPerMinute' | 'addressRegistrationsPerMinute' | 'loginsPerMinute'>,
    private readonly share: (event: ThrottleEvent) => void,
  ) {
    this.login = new LoginThrottle(options);
    this.rates = {
      roomRegistrations: new KeyedBuckets(limits.registrationsPerMinute, limits.registrationsPerMinute),
      addressRegistrations: new KeyedBuckets(limits.addressRegistrationsPerMinute, limits.addressRegistrationsPerMinute),
      accountLogins: new KeyedBuckets(limits.loginsPerMinute, limits.loginsPerMinute),
    };
  }

  /** Takes one of the rate's tokens for the key; 0, or the milliseconds until one would be there (nothing taken). */
  take(rate: RoomRate, key: string): number {
    const wait = this.rates[rate].take(key);
    if (wait === 0) this.share({ op: 'take', rate, key });
    return wait;
  }

  /** Milliseconds until the key would have one of the rate's tokens (0: now); takes nothing. */
  peek(rate: RoomRate, key: string): number {
    return this.rates[rate].peek(key);
  }

  giveBack(rate: RoomRate, key: string): void {
    this.rates[rate].giveBack(key);
    this.share({ op: 'giveBack', rate, key });
  }

  recordFailure(keys: string[]): void {
    this.login.recordFailure(keys);
    this.share({ op: 'failures', keys });
  }

  reset(key: string): void {
    this.login.reset(key);
    this.share({ op: 'reset', key });
  }

  /** The account logged in from the address, with its password or a token. */
  loggedInFrom(account: string, address: string): void {
    this.knownAddresses.add(account, address);
    this.share({ op: 'known', account, address });
  }

  /** Counts what another node counted. */
  heard(event: ThrottleEvent): void {
    if (event.op === 'failures') this.login.recordFailure(event.keys);
    else if (event.op === 'known') this.knownAddresses.add(event.account, event.address);
    else if (event.op === 'reset') this.login.reset(event.key);
    else if (event.op === 'take') this.rates[event.rate].charge(event.key);
    else this.rates[event.rate].giveBack(event.key);
  }
}
