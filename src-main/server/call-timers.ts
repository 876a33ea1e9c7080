/**
 * The timers of the calls a node is home of (voice-calls.ts): each call's ring, and each endpoint's
 * reconnect grace, by key. A call's timers exist from its start to its end; none keeps the process up.
 */
export class CallTimers {
  private readonly byCall = new Map<string, Map<string, NodeJS.Timeout>>();

  /** A call begun here: its timers may be set from now on. */
  open(callId: string): void {
    this.byCall.set(callId, new Map());
  }

  /** Runs `then` in `ms`, instead of whatever this key of the call was to run (nothing if the call ended). */
  set(callId: string, key: string, ms: number, then: () => void): void {
    const timers = this.byCall.get(callId);
    if (!timers) return;
    clearTimeout(timers.get(key));
    const timer = setTimeout(() => {
      timers.delete(key);
      then();
    }, ms);
    timer.unref();
    timers.set(key, timer);
  }

  clear(callId: string, key: string): void {
    const timers = this.byCall.get(callId);
    clearTimeout(timers?.get(key));
    timers?.delete(key);
  }

  /** The call ended: none of its timers runs. */
  drop(callId: string): void {
    for (const timer of this.byCall.get(callId)?.values() ?? []) clearTimeout(timer);
    this.byCall.delete(callId);
  }

  /** The server closes. */
  close(): void {
    for (const callId of [...this.byCall.keys()]) this.drop(callId);
  }
}
