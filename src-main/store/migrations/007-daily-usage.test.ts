import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { sqliteAt } from './test-migrations.js';

describe('007-daily-usage', () => {
  it("keeps one count per user and day", () => {
    const db = sqliteAt(':memory:', 7);
    db.exec('INSERT INTO daily_usage (user_id, day, bytes) VALUES (1, 20000, 5), (1, 20001, 7)');
    expect(() => db.exec('INSERT INTO daily_usage (user_id, day, bytes) VALUES (1, 20000, 1)')).toThrow(Database.SqliteError);
    db.close();
  });
});
