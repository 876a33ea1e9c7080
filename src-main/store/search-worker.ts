/**
 * A search worker thread (started by search-pool.ts): its own read-only connection
 * to the database, on which searchIds runs. WAL lets it read while the server's
 * connection writes; each statement sees what was committed when it began.
 * Searches run concurrently here, slice by slice; a cancel stops one at its next slice.
 * Told to close, it cancels them all, closes its connection once they have stopped and ends.
 * Started with `index`, the thread is the indexer instead (search-index.ts), until told to close.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3-multiple-ciphers';
import { runIndexer } from './search-index.js';
import { searchIds } from './search.js';
import type { SearchReply, WorkerMessage } from './search-pool.js';

const port = parentPort!;
const { file, index } = workerData as { file: string; index?: boolean };
if (index) {
  // Background work: the server's thread and searches go first. On Linux the nice value is per
  // thread, so this lowers the indexer's alone; elsewhere it would lower the whole process.
  if (process.platform === 'linux') setPriority(19);
  const stop = runIndexer(file, (health) => port.postMessage(health));
  if (stop) {
    port.on('message', () => {
      stop();
      port.close();
    });
  } else {
    port.close();
  }
} else {
  searchThread();
}

function searchThread(): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const run = searchIds(db);
  const underWay = new Map<number, AbortController>();
  let closing = false;

  function closeWhenIdle(): void {
    if (!closing || underWay.size > 0) return;
    db.close();
    port.close();
  }

  port.on('message', (message: WorkerMessage) => {
    if ('close' in message) {
      closing = true;
      for (const controller of underWay.values()) controller.abort();
      closeWhenIdle();
      return;
    }
    if ('cancel' in message) {
      underWay.get(message.cancel)?.abort();
      return;
    }
    if (closing) return;
    const controller = new AbortController();
    underWay.set(message.id, controller);
    const reply = (answer: SearchReply): void => {
      underWay.delete(message.id);
      port.postMessage(answer);
      closeWhenIdle();
    };
    run(message.userId, message.options, controller.signal).then(
      (ids) => reply({ id: message.id, ids }),
      (error: unknown) =>
        reply({
          id: message.id,
          cancelled: controller.signal.aborted,
          error: error instanceof Error ? error.message : String(error),
          ...(typeof (error as { code?: unknown })?.code === 'string' ? { code: (error as { code: string }).code } : {}),
        }),
    );
  });
}
