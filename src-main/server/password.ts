/**
 * Password hashing with scrypt (Node's own, no native dependency). The stored string
 * names its parameters so they can be raised later without breaking old accounts:
 * scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ServerError } from './errors.js';

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** N = 2^15, r = 8: 32 MiB and tens of milliseconds per guess. */
const DEFAULT_LOG_N = 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, logN = DEFAULT_LOG_N): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, logN, BLOCK_SIZE, PARALLELISM);
  return ['scrypt', logN, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !logN || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), Number(logN), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Password checks from an address the account logged in from go first (guesses from elsewhere
 * cannot hold its owner up), then other logins of existing accounts, then new registrations.
 */
export type ScryptLane = 'known' | 'login' | 'register';

/**
 * Test-only (the product never sets it): awaited by each piece of a connection's scrypt work once its turn
 * has come and before scrypt runs. A test holds a password check there while it resets, bans or rejects the
 * account, then lets it go, instead of racing scrypt's wall time on a loaded machine.
 */
export type ScryptHold = (lane: ScryptLane) => Promise<void>;

/**
 * Runs scrypt work at most `concurrency` at a time (each costs 32 MiB and a thread-pool
 * thread), lane by lane (ScryptLane), first come first served within a lane. Work whose
 * requester has gone by the time its turn comes is dropped, not run.
 */
export class ScryptQueue {
  private running = 0;
  private readonly lanes: Record<ScryptLane, (() => void)[]> = { known: [], login: [], register: [] };

  constructor(
    readonly concurrency = 2,
    private readonly hold?: ScryptHold,
  ) {}

  run<T>(lane: ScryptLane, wanted: () => boolean, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        if (!wanted()) {
          reject(new ScryptDropped());
          this.next();
          return;
        }
        this.running += 1;
        (this.hold ? this.hold(lane).then(work) : work())
          .then(resolve, reject)
          .finally(() => {
            this.running -= 1;
            this.next();
          });
      };
      this.lanes[lane].push(start);
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const start = this.lanes.known.shift() ?? this.lanes.login.shift() ?? this.lanes.register.shift();
      if (!start) return;
      start();
    }
  }
}

/** The requester of queued scrypt work went away before its turn (its answer reaches nobody). */
export class ScryptDropped extends ServerError {
  constructor() {
    super(ErrorCode.INTERNAL, 'the connection closed before its password check began');
  }
}
