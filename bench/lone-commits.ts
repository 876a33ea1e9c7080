/**
 * What a lone message's commit writes and costs, as the group commit sends it in the light room
 * (docs/BENCHMARKS.md, "Search index off the send path (trigram19)"): a store of `--prefill`
 * messages, then `--commits` commits of one room message each, one per event-loop turn. Prints
 * the write-ahead log frames (pages) each commit added, read from the WAL index's mxFrame in the
 * -shm file, the median and p99 time of the synchronous insertMessages call (the server's thread),
 * and the process's CPU per message (every thread: the indexer's too). `--tree DIR` runs the store
 * of another copy of the project (a copy of main, for an A/B on a shared machine). `--floor`: each commit
 * of the store is followed by one of a bare INSERT of the same row in a transaction of its own, on the same
 * database (`floor_*`): what one message's commit costs SQLite itself, the bound that storing each message
 * before it is pushed sets the light room (docs/BENCHMARKS.md, "One message, one commit").
 * Run: npx tsx bench/lone-commits.ts [--tree DIR] [--prefill N] [--commits N] [--floor]
 */
import { mkdtempSync, openSync, readSync, rmSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type * as StoreModule from '../src-main/store/store.js';
import { percentile, round } from './common.js';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', default: resolve(import.meta.dirname, '..') },
    prefill: { type: 'string', default: '10000' },
    commits: { type: 'string', default: '2000' },
    floor: { type: 'boolean', default: false },
  },
});
const { openStoreWithDatabase } = (await import(join(values.tree, 'src-main/store/store.ts'))) as typeof StoreModule;

/** The WAL index header's mxFrame: the frames in the log (it starts again at 0 when the log restarts). */
function framesInLog(shm: string): number {
  const fd = openSync(shm, 'r');
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    return header.readUInt32LE(16);
  } finally {
    closeSync(fd);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lanchat-lone-'));
const file = join(dir, 'chat.sqlite');
const { store, db } = openStoreWithDatabase(file);
/** A commit's time and the log frames (pages) it added. */
const lone = (commit: () => unknown, times: number[]): number => {
  const before = framesInLog(`${file}-shm`);
  const began = performance.now();
  commit();
  times.push(performance.now() - began);
  const after = framesInLog(`${file}-shm`);
  return after >= before ? after - before : after;
};
try {
  const ann = store.createUser({ name: 'ann', nameKey: 'ann', skeleton: 'ann', passwordHash: 'h', createdAt: 1 });
  const text = (i: number): string => `the quick brown fox ${i} jumps over the lazy dog`;
  for (let made = 0; made < Number(values.prefill); made += 100) {
    store.insertMessages(Array.from({ length: 100 }, (_, i) => ({ conv: 'room', senderId: ann.id, clientMsgId: `p${made + i}`, text: text(made + i), ts: 1 })));
  }
  const bare = db.prepare<[number, string, string]>(
    `INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', ?, ?, ?, '', 2)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
  );
  const floorCommit = db.transaction((i: number) => bare.run(ann.id, `f${i}`, text(i)));
  const load = loadavg()[0]!;
  const times: number[] = [];
  const floorTimes: number[] = [];
  let frames = 0;
  let floorFrames = 0;
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < Number(values.commits); i++) {
    await nextTurn();
    frames += lone(() => store.insertMessages([{ conv: 'room', senderId: ann.id, clientMsgId: `c${i}`, text: text(i), ts: 2 }]), times);
    if (values.floor) {
      await nextTurn();
      floorFrames += lone(() => floorCommit(i), floorTimes);
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    JSON.stringify({
      tree: values.tree,
      pages_per_commit: round(frames / times.length),
      commit_p50_us: Math.round(percentile(times, 0.5) * 1000),
      commit_p99_us: Math.round(percentile(times, 0.99) * 1000),
      ...(values.floor
        ? {
            // The floor's commits are in the process's CPU too: per message, not said.
            floor_pages_per_commit: round(floorFrames / floorTimes.length),
            floor_commit_p50_us: Math.round(percentile(floorTimes, 0.5) * 1000),
            floor_commit_p99_us: Math.round(percentile(floorTimes, 0.99) * 1000),
          }
        : { process_cpu_us_per_message: Math.round((cpu.user + cpu.system) / times.length) }),
      load_before: load,
      load_after: loadavg()[0],
    }),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
