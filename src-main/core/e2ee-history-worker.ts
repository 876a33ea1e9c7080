/**
 * The reader thread of a device history (started by e2ee-history.ts): its own connection to the encrypted
 * file, with the same key, on which it runs the reads that may take many rows (historyReads), one at a time,
 * in the order asked. WAL lets it read while the main thread's connection writes; each read sees what was
 * committed when it began. Told to close, it closes its connection and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ReaderAsk, type ReaderReply, historyReads, openReader } from './e2ee-history.js';

const port = parentPort!;
const { file, key } = workerData as { file: string; key: Uint8Array };
const db = openReader(file, key);
const reads = historyReads(db);

port.on('message', (ask: ReaderAsk) => {
  if ('close' in ask) {
    db.close();
    port.close();
    return;
  }
  let reply: ReaderReply;
  try {
    reply = { id: ask.id, value: (reads[ask.read] as (...args: unknown[]) => unknown)(...ask.args) };
  } catch (error) {
    reply = { id: ask.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
