/**
 * The write-ahead log's checkpoints, off the server's thread as far as SQLite lets them be.
 *
 * Copying the log into the database (a checkpoint, with an fsync) held the server's thread for
 * 300–450 ms in a burst when SQLite ran it inside a commit, once the log reached
 * wal_autocheckpoint's 64 MB (open.ts): every client waited for that turn. So while the store is
 * open, a worker thread with its own connection copies the log into the database whenever it
 * changed, at most every COPY_EVERY_MS (PASSIVE: it blocks nobody, the server keeps writing
 * meanwhile). After a copy that reached the log's end, the next commit starts the log over from
 * its beginning. While the server commits without a pause the worker stays a little behind, and
 * at 64 MB the server's connection still checkpoints, but copies only what the worker has not: a
 * burst's longest turn went from about 350 ms to 90–180 ms (docs/BENCHMARKS.md, loop17).
 *
 * Truncating the log after a delete (docs/PROTOCOL.md §17.3): on the server's thread a TRUNCATE
 * checkpoint of a 1M-message store took 17–560 ms (it copies the whole log into the database and
 * syncs it), and waited out the 5 s busy timeout while a search worker was mid-statement. So the
 * worker first copies the log into the database; then the server's own connection truncates, and
 * does not wait: a log still in use (a search on an older snapshot) is tried again a little later.
 * It stays on the server's connection because a log reset by another connection fails the
 * server's next write transaction that began reading before it (SQLITE_BUSY_SNAPSHOT).
 * The truncation runs only once nothing was written while the worker copied: with pages left to
 * copy it syncs the log and the database on the server's thread, the history workload's longest
 * turn (57 ms; docs/BENCHMARKS.md, loop18). A server that writes without a pause for QUIET_FOR_MS
 * gets the truncation with the copy of the rest, as before.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Db } from './rows.js';
import { Worker } from 'node:worker_threads';

/** How often the log is looked at, and copied into the database if it changed. */
const COPY_EVERY_MS = 200;
/** A log still in use (a reader on an older snapshot, a write under way) is tried again this often, */
const RETRY_MS = 200;
/** for this long at most. */
const GIVE_UP_MS = 60_000;
/** How long a purge waits for a copy during which the server wrote nothing, before its own connection copies the rest. */
const QUIET_FOR_MS = 1000;

/** Plain JavaScript, so that the worker needs neither a bundle entry nor a TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [{ busy, log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ complete: busy === 0 && log === checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error.message) });
  }
});
`;

interface Reply {
  /** The copy reached the log's end. */
  complete?: boolean;
  error?: string;
}

export class WalPurger {
  private worker: Worker | null = null;
  /** Settles once the worker made last has ended. */
  private workerEnded: Promise<void> = Promise.resolve();
  /** The truncation under way or waiting for it; a delete in between needs a truncation after it. */
  private last: Promise<void> = Promise.resolve();
  /** A truncation not started yet: every delete until it starts is covered by it. */
  private waiting: Promise<void> | null = null;
  private closed = false;
  /** The copies asked of the worker, one after the other: each reply answers the oldest. */
  private copies: Promise<unknown> = Promise.resolve();
  private copying = false;
  /** Purges asked for and not yet ended: a background copy then would only make their truncation wait. */
  private purges = 0;
  /** The log's size and change time when it was last copied. */
  private copiedLog = '';
  private readonly copyTimer: NodeJS.Timeout;
  /** Rows the server's connection changed since it opened: unchanged over a copy, the copy missed nothing. */
  private readonly totalChanges: () => number;

  constructor(
    private readonly db: Db,
    private readonly file: string,
  ) {
    this.copyTimer = setInterval(this.copyIfChanged, COPY_EVERY_MS).unref();
    const statement = db.prepare('SELECT total_changes()').pluck();
    this.totalChanges = () => statement.get() as number;
  }

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
    this.purges += 1;
    const ended = (): void => {
      this.purges -= 1;
    };
    run.then(ended, ended);
    return run;
  }

  /** Resolves once the worker has ended. */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.copyTimer);
    // Asked, not terminated: a worker terminated inside a better-sqlite3 call can abort the whole
    // process (v8 ToLocalChecked). It answers the copy under way first, then closes and ends; held
    // until then, as the store's other threads are, so that a process awaiting the close waits for it.
    this.worker?.ref();
    this.worker?.postMessage('close');
    this.worker = null;
    return this.workerEnded;
  }

  private async truncate(): Promise<void> {
    const start = Date.now();
    for (;;) {
      const before = this.writtenSoFar();
      const reply = await this.copyLog();
      if (reply.error !== undefined) throw new Error(reply.error);
      if (this.closed) throw new Error('the store is closed');
      const copiedAll = reply.complete === true && before !== null && this.writtenSoFar() === before;
      if (!copiedAll && Date.now() - start < QUIET_FOR_MS) {
        // Something was written meanwhile, or a reader kept the copy from the end: copy again.
        if (reply.complete !== true) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
        continue;
      }
      if (this.checkpointNow('TRUNCATE')) return;
      if (Date.now() - start >= GIVE_UP_MS) throw new Error('the write-ahead log stayed in use');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    }
  }

  /** What the server's connection has committed so far; null inside a transaction, whose commit is still to come. */
  private writtenSoFar(): number | null {
    return this.db.inTransaction ? null : this.totalChanges();
  }

  /** Whether the log was copied to its end (and with TRUNCATE emptied): false while a reader or writer still uses it. */
  private checkpointNow(mode: 'PASSIVE' | 'TRUNCATE'): boolean {
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      const [result] = this.db.pragma(`wal_checkpoint(${mode})`) as { busy: number }[];
      return result!.busy === 0;
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  /** Copies the log in the background if it changed since the last copy and no copy or purge is under way. */
  private readonly copyIfChanged = (): void => {
    if (this.copying || this.purges > 0) return;
    let log: string;
    try {
      const { size, mtimeMs } = statSync(`${this.file}-wal`);
      log = `${size} ${mtimeMs}`;
    } catch {
      return;
    }
    if (log === this.copiedLog) return;
    this.copiedLog = log;
    this.copying = true;
    this.copyLog()
      .catch(() => undefined)
      .finally(() => (this.copying = false));
  };

  private copyLog(): Promise<Reply> {
    const copy = this.copies.then(() => this.askWorker());
    this.copies = copy.catch(() => undefined);
    return copy;
  }

  private askWorker(): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (!this.worker) {
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { file: this.file, sqlite: createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers') },
      });
      // An open store left unclosed must not keep its process alive.
      this.worker.unref();
      const worker = this.worker;
      this.workerEnded = new Promise((resolve) => worker.once('exit', () => resolve()));
    }
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
