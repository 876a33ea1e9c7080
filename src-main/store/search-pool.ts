/**
 * Runs searches on worker threads (search-worker.ts), so that no search, however
 * much of the history it must read, holds the server's event loop. Workers start
 * at the first search and stay; each search goes to the worker with the fewest
 * under way, and a worker interleaves its searches slice by slice.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { IndexerHealth } from './search-index.js';
import type { SearchOptions } from './types.js';
import { ThreadCalls, entryWorker } from './typescript-worker.js';

export interface SearchJob {
  id: number;
  userId: number;
  options: Omit<SearchOptions, 'signal'>;
}

/**
 * The indexer thread (search-index.ts), from the same entry as the search workers. Closing asks
 * it to stop after its batch under way (as for a search worker, it is never terminated).
 */
export interface Indexer {
  /** Asks the thread to end after its batch under way; resolves once it has. */
  close: () => Promise<void>;
}

/**
 * The indexers of this process that have not ended yet, by database file: a store reopened at
 * once starts its indexer only after the last one has closed the index file, which the opening
 * may have deleted to build it again.
 */
const indexersEnding = new Map<string, Promise<void>>();

/** Resolves once no indexer of the database `file` runs in this process (for tests that replace its files). */
export const indexersEnded = async (file: string): Promise<void> => {
  while (indexersEnding.has(file)) await indexersEnding.get(file);
};

/** `onHealth` hears the indexer's reports (runIndexer), on the thread that started it. */
export function startIndexer(file: string, onHealth: (health: IndexerHealth) => void): Indexer {
  let thread: Worker | undefined;
  let ended: Promise<void> = Promise.resolve();
  let closed = false;
  const start = (): void => {
    if (closed) return;
    // Another waiter for the same indexer may have started its own first.
    const running = indexersEnding.get(file);
    if (running) {
      void running.then(start);
      return;
    }
    const started = startWorker({ file, index: true });
    thread = started;
    // The server's sockets keep the process alive; the indexer must not.
    started.unref();
    // A thread that failed ends without an index: searches read the messages meanwhile.
    started.on('error', (error) => onHealth({ failing: error.message }));
    started.on('message', onHealth);
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    ended = exited;
    indexersEnding.set(file, exited);
    void exited.then(() => {
      if (indexersEnding.get(file) === exited) indexersEnding.delete(file);
    });
  };
  start();
  return {
    close: () => {
      closed = true;
      // Held until it ends: a process awaiting the close must not exit first (unref'd, it would).
      thread?.ref();
      thread?.postMessage({ close: true } satisfies WorkerMessage);
      return ended;
    },
  };
}

/** What the pool tells a worker: a search, to cancel one, or to cancel all, close the connection and end. */
export type WorkerMessage = SearchJob | { cancel: number } | { close: true };

export type SearchReply =
  | { id: number; ids: number[] }
  | { id: number; cancelled: boolean; error: string; code?: string };

/** One or two: searches share a worker fairly anyway; a second one lets them use a second core. */
const WORKERS = Math.min(2, Math.max(1, availableParallelism() - 1));

/** The search worker's thread (search-worker.ts), found wherever this code runs (typescript-worker.ts). */
const startWorker = (workerData: unknown): Worker => entryWorker('search-worker', new URL('./search-worker.ts', import.meta.url), workerData);

/** A search worker's thread: its searches under way are its calls. */
type PoolWorker = ThreadCalls<SearchReply>;

export class SearchPool {
  private workers: PoolWorker[] = [];
  private closed = false;

  constructor(private readonly file: string) {}

  /** The ids of the search's page, newest first (up to limit + 1); rejects with the signal's reason once the worker has stopped. */
  async run(userId: number, options: SearchOptions): Promise<number[]> {
    const { signal, ...rest } = options;
    if (this.closed) throw new Error('the store is closed');
    if (signal?.aborted) throw signal.reason;
    const worker = this.leastBusy();
    let id = 0;
    // Cancelling waits for the worker's answer: a search is over when the worker says so.
    const onAbort = (): void => worker.thread.postMessage({ cancel: id } satisfies WorkerMessage);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await worker.call((callId) => {
        id = callId;
        return { id, userId, options: rest } satisfies WorkerMessage;
      });
      if ('ids' in reply) return reply.ids;
      if (reply.cancelled && signal?.aborted) throw signal.reason;
      throw Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {});
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves once every worker has ended. */
  close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    // Asked, not terminated: a worker terminated inside a better-sqlite3 call can abort the whole
    // process (v8 ToLocalChecked); it stops its searches at their next slice and ends by itself.
    const ended = workers.map((worker) => worker.close({ close: true } satisfies WorkerMessage, new Error('the store is closed')));
    return Promise.all(ended).then(() => undefined);
  }

  /** Starts a worker now if none runs, so that the next search need not wait for one to start. */
  startThread(): void {
    if (!this.closed && this.workers.every((worker) => worker.failed)) this.start();
  }

  private leastBusy(): PoolWorker {
    // A worker that failed or ended is left: its searches failed with it.
    this.workers = this.workers.filter((worker) => !worker.failed);
    const idle = this.workers.find((worker) => worker.underWay === 0);
    if (idle) return idle;
    if (this.workers.length < WORKERS) return this.start();
    return this.workers.reduce((a, b) => (b.underWay < a.underWay ? b : a));
  }

  private start(): PoolWorker {
    // Idle, it does not keep the process alive (ThreadCalls): the server's sockets do.
    const worker = new ThreadCalls<SearchReply>(startWorker({ file: this.file }), 'the search worker');
    this.workers.push(worker);
    return worker;
  }
}
