/**
 * Truncating the write-ahead log after a delete (docs/PROTOCOL.md §17.3). On the server's thread a
 * TRUNCATE checkpoint of a 1M-message store took 17–560 ms (it copies the whole log into the
 * database and syncs it), and waited out the 5 s busy timeout while a search worker was
 * mid-statement. So a worker thread with its own connection first copies the log into the database
 * (PASSIVE: it blocks nobody, the server keeps writing meanwhile); then the server's own connection
 * truncates, which has only the last few pages left to copy, and does not wait: a log still in use
 * (a search on an older snapshot) is tried again a little later. Measured on the 1M-message store,
 * that last step took 4–46 ms on a loaded machine (the file's truncation), against 17–560 ms and a
 * 5 s stall before. It stays on the server's connection because a log reset by another connection
 * fails the server's next write transaction that began reading before it (SQLITE_BUSY_SNAPSHOT).
 */
import { createRequire } from 'node:module';
import type { Db } from './rows.js';
import { Worker } from 'node:worker_threads';

/** A log still in use (a reader on an older snapshot, a write under way) is tried again this often, */
const RETRY_MS = 200;
/** for this long at most. */
const GIVE_UP_MS = 60_000;

/** Plain JavaScript, so that the worker needs neither a bundle entry nor a TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({});
  } catch (error) {
    parentPort.postMessage({ error: String(error.message) });
  }
});
`;

interface Reply {
  error?: string;
}

export class WalPurger {
  private worker: Worker | null = null;
  /** The truncation under way or waiting for it; a delete in between needs a truncation after it. */
  private last: Promise<void> = Promise.resolve();
  /** A truncation not started yet: every delete until it starts is covered by it. */
  private waiting: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly file: string,
  ) {}

  /** Resolves once the log has been emptied after this call; rejects when it stays in use too long. */
  purge(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (this.waiting) return this.waiting;
    const run = this.last
      .catch(() => undefined)
      .then(() => {
        this.waiting = null;
        return this.truncate();
      });
    this.waiting = run;
    this.last = run;
    return run;
  }

  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.worker = null;
  }

  private async truncate(): Promise<void> {
    const giveUpAt = Date.now() + GIVE_UP_MS;
    for (;;) {
      const reply = await this.copyLog();
      if (reply.error !== undefined) throw new Error(reply.error);
      if (this.closed) throw new Error('the store is closed');
      if (this.truncateNow()) return;
      if (Date.now() >= giveUpAt) throw new Error('the write-ahead log stayed in use');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    }
  }

  /** Whether the log was emptied: false while a reader or writer still uses it. */
  private truncateNow(): boolean {
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result!.busy === 0;
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  private copyLog(): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    this.worker ??= new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, sqlite: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    const worker = this.worker;
    return new Promise<Reply>((resolve, reject) => {
      const onMessage = (reply: Reply): void => {
        worker.off('error', onError);
        resolve(reply);
      };
      const onError = (error: Error): void => {
        worker.off('message', onMessage);
        if (this.worker === worker) this.worker = null;
        reject(error);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage('copy');
    });
  }
}
