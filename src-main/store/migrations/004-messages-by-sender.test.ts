import { describe, expect, it } from 'vitest';
import { sqliteAt } from './test-migrations.js';

describe('004-messages-by-sender', () => {
  it("lets a search walk one person's messages newest first by a range seek", () => {
    const db = sqliteAt(':memory:', 4);
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT id FROM messages WHERE sender_id = 1 AND id < 100 ORDER BY id DESC').all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join('\n')).toContain('USING COVERING INDEX messages_by_sender (sender_id=? AND id<?)');
    db.close();
  });
});
