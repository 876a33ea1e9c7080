/**
 * One time budget for each turn of the event loop (one libuv iteration: its I/O callbacks, its
 * setImmediate callbacks, its timers), shared by every kind of work a server may put off to a later
 * turn: handling frames, beginning TLS handshakes, writing a commit's pushes, writing presence.
 * Each kind had a budget of its own (5, 16, 8 and 8 ms), so one turn could spend all of them: the
 * reconnect storm's turns of 25 to 40 ms were a commit's writes, the writes left from the turn
 * before, a batch of handshakes and the frames let through, back to back (docs/BENCHMARKS.md,
 * "One budget per turn (turn25)"). Each kind still moves by a least amount per turn of its own.
 */
import { performance } from 'node:perf_hooks';

/** What the budgeted work of one turn may take before the rest waits for the next turn. */
export const TURN_BUDGET_MS = 10;

/** The iteration the clock belongs to, and when it was first asked in it. */
let turn = -1;
let since = 0;

/**
 * Starts this turn's clock unless something of the turn did already: called where a turn's work
 * begins (a socket's data, a commit, a flush), so the budget covers that work too.
 */
export function turnBegins(): void {
  turnSpentMs();
}

/** Milliseconds since the turn's clock started (now, if nothing of the turn started it). */
export function turnSpentMs(): number {
  const now = performance.now();
  const current = currentTurn();
  if (current !== turn) {
    turn = current;
    since = now;
  }
  return now - since;
}

/** Which turn of the loop this is: libuv's count of its iterations. */
export function currentTurn(): number {
  return performance.nodeTiming.uvMetricsInfo.loopCount;
}

export function turnBudgetLeft(): boolean {
  return turnSpentMs() < TURN_BUDGET_MS;
}
