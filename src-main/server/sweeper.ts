/**
 * Drops connections silent past the heartbeat timeout, stalled in a frame, or that never logged in, and
 * names a request left unanswered. A sweep that runs late means the server itself was busy: timers run
 * before the sockets are read, so what clients sent meanwhile is not read yet. Their clocks then count
 * from the end of the stall.
 */
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ServerLog } from './log.js';
import type { Session } from './session.js';

export interface SweepTimeouts {
  heartbeatTimeoutMs: number;
  authTimeoutMs: number;
  frameTimeoutMs: number;
}

export class Sweeper {
  private readonly timer: NodeJS.Timeout;
  private readonly intervalMs: number;
  private lastSweepAt = Date.now();
  /** When the server last came out of a stall of its own: silence before it is not the clients'. */
  private stallEndedAt = 0;

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly log: ServerLog,
    private readonly timeouts: SweepTimeouts,
  ) {
    const { heartbeatTimeoutMs, authTimeoutMs, frameTimeoutMs } = timeouts;
    this.intervalMs = Math.max(50, Math.min(1000, Math.min(heartbeatTimeoutMs, authTimeoutMs, frameTimeoutMs) / 4));
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const { heartbeatTimeoutMs, authTimeoutMs, frameTimeoutMs } = this.timeouts;
    const now = Date.now();
    const lag = now - this.lastSweepAt - this.intervalMs;
    this.lastSweepAt = now;
    if (lag > Math.max(this.intervalMs, heartbeatTimeoutMs / 4)) {
      this.stallEndedAt = now;
      this.log.warn('server stalled', { ms: lag });
      return;
    }
    for (const session of this.sessions) {
      const connection = session.connection;
      if (!connection.isOpen) continue;
      const who = session.user ? { user: session.user.name } : {};
      if (now - Math.max(connection.lastReceivedAt, this.stallEndedAt) > heartbeatTimeoutMs) {
        this.log.warn('heartbeat timeout', { address: connection.remoteAddress, ...who });
        connection.close({ code: ErrorCode.HEARTBEAT_TIMEOUT, message: `nothing heard for ${Math.round(heartbeatTimeoutMs / 1000)} s` });
      } else if (connection.partialFrameSince !== null && now - Math.max(connection.partialFrameSince, this.stallEndedAt) > frameTimeoutMs) {
        this.log.warn('frame timeout', { address: connection.remoteAddress, ...who });
        connection.close({
          code: ErrorCode.FRAME_TIMEOUT,
          message: `a frame was begun and not finished within ${Math.round(frameTimeoutMs / 1000)} s`,
        });
      } else if (!session.user && now - Math.max(session.openedAt, this.stallEndedAt) > authTimeoutMs) {
        this.log.warn('login timeout', { address: connection.remoteAddress });
        connection.close({ code: ErrorCode.NOT_LOGGED_IN, message: 'no login in time' });
      } else if (session.handling && !session.handling.noted && now - session.handling.since > 2 * heartbeatTimeoutMs) {
        // Its pings wait behind it, so its client will leave (PROTOCOL §12); what hung is worth a line.
        session.handling.noted = true;
        this.log.warn('request unanswered', { type: session.handling.type, seconds: Math.round((now - session.handling.since) / 1000), ...who });
      }
    }
  }
}
