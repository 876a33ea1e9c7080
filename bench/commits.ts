/**
 * How long the SQLite store's commits take when they come one per event-loop turn, as the
 * server's group commit sends them (docs/BENCHMARKS.md, "Light latency and long turns (loop17)"):
 * `--batch` room messages per commit, `--commits` of them (the default writes about 100 MB of
 * write-ahead log, past the 64 MB at which the server's own connection checkpoints), then
 * percentiles of the commit times, the longest five and the log's size. `--tree DIR` runs the
 * store of another copy of the project (a copy of main, for an A/B on a shared machine).
 * Run: npx tsx bench/commits.ts [--tree DIR] [--commits N] [--batch N]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type * as AsyncStoreModule from '../src-main/store/async-store.js';
import { percentile, round } from './common.js';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', default: resolve(import.meta.dirname, '..') },
    commits: { type: 'string', default: '12000' },
    batch: { type: 'string', default: '10' },
  },
});
const { openAsyncStore } = (await import(join(values.tree, 'src-main/store/async-store.ts'))) as typeof AsyncStoreModule;

const dir = mkdtempSync(join(tmpdir(), 'lanchat-commits-'));
const file = join(dir, 'chat.sqlite');
const store = openAsyncStore(file);
try {
  const ann = await store.createUser({ name: 'ann', nameKey: 'ann', skeleton: 'ann', passwordHash: 'h', createdAt: 1 });
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(4);
  const times: number[] = [];
  for (let commit = 0; commit < Number(values.commits); commit += 1) {
    await new Promise((next) => setImmediate(next));
    const began = performance.now();
    await store.insertMessages(
      Array.from({ length: Number(values.batch) }, (_, i) => ({ conv: 'room', senderId: ann.id, clientMsgId: `${commit}-${i}`, text, ts: 1 })),
    );
    times.push(performance.now() - began);
  }
  const longest = [...times].sort((a, b) => b - a).slice(0, 5);
  console.log(
    JSON.stringify({
      tree: values.tree,
      commits: times.length,
      batch: Number(values.batch),
      p50_ms: round(percentile(times, 0.5)),
      p99_ms: round(percentile(times, 0.99)),
      p999_ms: round(percentile(times, 0.999)),
      longest_ms: longest.map((ms) => round(ms)),
      wal_mb: round(statSync(`${file}-wal`).size / 1e6),
    }),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
