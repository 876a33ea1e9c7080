/**
 * The history workload's ingest alone, in this process: `generateHistory` into a fresh store, then one
 * JSON line. For A/B checks of the store's insert path, which `npm run bench` measures only after the
 * other workloads and only at 1,000,000 messages (docs/BENCHMARKS.md, "Ingest (ingest17)").
 *
 *   npx tsx bench/ingest.ts [--messages 200000] [--floor] [--statements] [--pragma "cache_size=-16384"]... [--sql "..."]... [--page-size 8192]
 *
 * --statements: the CPU time of each SQL statement (better-sqlite3's run/get/all), in µs per stored
 * message; timing adds about 1 µs to each call. --pragma and --sql: set or run on the store's connection
 * after it opens (e.g. --pragma "cache_size=-32768").
 * index_caught_up_s: how long after the last insert the trigram indexer (its own thread) had indexed
 * every message; index_cpu_s_after_ingest: this process's CPU seconds meanwhile (the indexer's, mostly).
 * --page-size: the database file is created with that page size (a page size holds only for a new file).
 * --floor: each batch goes half through the store and half through the bare loop (`floorInsert`), which goes
 * first taking turns, into the same database: both measured on the same file, cache and machine moment, so
 * their ratio (ratio_to_floor: the store's rate over the floor's) holds still when the machine's load does not.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import { openStoreWithDatabase } from '../src-main/store/store.js';
import { databaseFile, removeDir, round, tempDataDir } from './common.js';
import { floorInsert, generateHistory, indexCatchUp } from './history.js';
import type { NewMessage } from '../src-main/store/types.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    statements: { type: 'boolean', default: false },
    pragma: { type: 'string', multiple: true, default: [] },
    sql: { type: 'string', multiple: true, default: [] },
    'page-size': { type: 'string' },
    floor: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);

/** CPU µs and calls per statement text. */
const statements = new Map<string, { micros: number; calls: number }>();
if (values.statements) {
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'run' | 'get' | 'all', (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all'] as const) {
    const original = prototype[method];
    prototype[method] = function timed(this: Database.Statement, ...args: unknown[]) {
      const before = process.cpuUsage();
      try {
        return original.apply(this, args);
      } finally {
        const spent = process.cpuUsage(before);
        const entry = statements.get(this.source) ?? { micros: 0, calls: 0 };
        entry.micros += spent.user + spent.system;
        entry.calls += 1;
        statements.set(this.source, entry);
      }
    };
  }
}

const dataDir = tempDataDir();
try {
  if (values['page-size'] !== undefined) {
    // A page size holds only if set before the first table is written: on the empty file, before the store opens it.
    const empty = new Database(databaseFile(dataDir));
    empty.pragma(`page_size = ${Number(values['page-size'])}`);
    empty.pragma('journal_mode = WAL');
    empty.close();
  }
  const { store, db } = openStoreWithDatabase(databaseFile(dataDir));
  for (const pragma of values.pragma) db.pragma(pragma);
  for (const sql of values.sql) db.exec(sql);
  const load = loadavg()[0]!;
  const floor = values.floor ? floorInsert(db) : undefined;
  /** With --floor: milliseconds (wall, CPU) of the store's halves and of the floor's. */
  const halves = { store: { ms: 0, cpuMs: 0, messages: 0 }, floor: { ms: 0, cpuMs: 0, messages: 0 } };
  const timed = (side: keyof typeof halves, insert: (batch: NewMessage[]) => unknown, batch: NewMessage[]): void => {
    const before = performance.now();
    const cpuBefore = process.cpuUsage();
    insert(batch);
    const cpu = process.cpuUsage(cpuBefore);
    halves[side].ms += performance.now() - before;
    halves[side].cpuMs += (cpu.user + cpu.system) / 1000;
    halves[side].messages += batch.length;
  };
  let turn = 0;
  const interleaved = (batch: NewMessage[]): void => {
    const half = Math.ceil(batch.length / 2);
    const [first, second] = [batch.slice(0, half), batch.slice(half)];
    const storeInsert = (messages: NewMessage[]): unknown => store.insertMessages(messages);
    if (turn++ % 2 === 0) {
      timed('floor', floor!, first);
      timed('store', storeInsert, second);
    } else {
      timed('store', storeInsert, first);
      timed('floor', floor!, second);
    }
  };
  const { insertMs, insertCpuMs } = await generateHistory(store, { messages, users: 200, dms: 1000, groups: 50 }, floor && interleaved);
  const pageSize = db.pragma('page_size', { simple: true });
  const cpuBefore = process.cpuUsage();
  const indexCaughtUpS = await indexCatchUp(databaseFile(dataDir));
  const indexCpu = process.cpuUsage(cpuBefore);
  await store.close();
  console.log(
    JSON.stringify({
      workload: 'ingest',
      messages,
      settings: [...values.pragma, ...values.sql].join('; '),
      page_size: pageSize,
      ...(floor
        ? {
            store_per_s: Math.round(halves.store.messages / (halves.store.ms / 1000)),
            floor_per_s: Math.round(halves.floor.messages / (halves.floor.ms / 1000)),
            ratio_to_floor: round(halves.floor.ms / halves.store.ms * (halves.store.messages / halves.floor.messages), 3),
            cpu_ratio_to_floor: round(halves.floor.cpuMs / halves.store.cpuMs * (halves.store.messages / halves.floor.messages), 3),
          }
        : {}),
      ingest_per_s: Math.round(messages / (insertMs / 1000)),
      ingest_per_cpu_s: Math.round(messages / (insertCpuMs / 1000)),
      index_caught_up_s: Math.round(indexCaughtUpS * 100) / 100,
      index_cpu_s_after_ingest: Math.round((indexCpu.user + indexCpu.system) / 1e4) / 100,
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
      load_before: load,
      load_after: loadavg()[0],
    }),
  );
  for (const [source, { micros, calls }] of [...statements].sort((a, b) => b[1].micros - a[1].micros).slice(0, 12)) {
    console.log(`${(micros / messages).toFixed(2).padStart(7)} µs/message ${String(calls).padStart(8)} calls  ${source.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
} finally {
  removeDir(dataDir);
}
