/**
 * What the client does once its link dropped: whether it comes back by itself (not after the host
 * ended its session), and when: after half to all of a back-off (jitter) that doubles per attempt up
 * to its largest, kept at its first while the host restarts.
 */
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { ClientError } from './errors.js';

/** Bye reasons after which the client does not reconnect by itself. */
const ENDED_BY_HOST = new Set<string>([ErrorCode.KICKED, ErrorCode.BANNED, ErrorCode.PASSWORD_CHANGED]);

/**
 * How long after the host said it stopped (SERVER_SHUTDOWN: a restart, usually back within seconds)
 * the client keeps trying at its first back-off instead of doubling it: waits grown while the
 * host was down would otherwise keep everyone away for up to backoffMaxMs after it is back. The
 * jitter of every wait still spreads a room's clients over it.
 */
const RESTART_RETRY_WINDOW_MS = 10_000;

/** After a drop: reconnect, or close (with the error to report when the host ended the session). */
export type AfterDrop = { reconnect: true } | { reconnect: false; fatal: ClientError | null };

export function afterDrop(reason: WireError | null, reconnect: boolean): AfterDrop {
  if (!reconnect || reason?.code === ErrorCode.LOGGED_OUT) return { reconnect: false, fatal: null };
  // Coming straight back would undo what the host (or a password change) just did.
  if (reason && ENDED_BY_HOST.has(reason.code)) return { reconnect: false, fatal: new ClientError(reason.code, reason.message) };
  return { reconnect: true };
}

export class Backoff {
  private attempt = 0;
  /** When the host last closed the link saying it stopped (Date.now()); null once back online or after another drop. */
  private hostStoppedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The link dropped for this reason; reconnect attempts follow. */
  dropped(reason: WireError | null): void {
    // A drained node sends its clients elsewhere: another address, or the balancer's next node, answers now.
    const stopped = reason?.code === ErrorCode.SERVER_SHUTDOWN || reason?.code === ErrorCode.SERVER_DRAINING;
    this.hostStoppedAt = stopped ? Date.now() : null;
  }

  /** Back online: the next drop starts again from the first wait. */
  reset(): void {
    this.attempt = 0;
    this.hostStoppedAt = null;
  }

  /** Runs `attempt` after the next wait, never sooner than `notBeforeMs`; returns the attempt's number and wait. */
  schedule(attempt: () => void, notBeforeMs = 0): { attempt: number; delayMs: number } {
    this.attempt += 1;
    const restarting = this.hostStoppedAt !== null && Date.now() - this.hostStoppedAt < RESTART_RETRY_WINDOW_MS;
    const base = restarting ? this.minMs : Math.min(this.maxMs, this.minMs * 2 ** (this.attempt - 1));
    const delayMs = Math.max(notBeforeMs, Math.round(base / 2 + Math.random() * (base / 2)));
    this.timer = setTimeout(() => {
      this.timer = null;
      attempt();
    }, delayMs);
    return { attempt: this.attempt, delayMs };
  }

  /** Cancels the waiting attempt, if any. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
