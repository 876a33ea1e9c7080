import { describe, expect, it } from 'vitest';
import { TURN_BUDGET_MS, turnBegins, turnBudgetLeft, turnSpentMs } from './turn.js';

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the turn clock', () => {
  it('counts one turn of the loop across its callbacks, and starts again in the next turn', async () => {
    await nextTurn();
    const spent = await new Promise<{ second: number; nextTurn: number; leftAfter: boolean }>((resolve) => {
      // Both callbacks are queued before the check phase runs them: one turn.
      setImmediate(() => {
        turnBegins();
        busy(TURN_BUDGET_MS + 5);
      });
      setImmediate(() => {
        const second = turnSpentMs();
        const leftAfter = turnBudgetLeft();
        setImmediate(() => resolve({ second, nextTurn: turnSpentMs(), leftAfter }));
      });
    });
    expect(spent.second).toBeGreaterThanOrEqual(TURN_BUDGET_MS + 5);
    expect(spent.leftAfter).toBe(false);
    // A fresh turn: its clock began at this very question.
    expect(spent.nextTurn).toBeLessThan(TURN_BUDGET_MS);
  });
});
