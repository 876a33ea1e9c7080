import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files whose assertions race a clock (an installer stopped at 2 s, 300 ms heartbeats): they run last,
 * one at a time in one process, with no other test file competing for the CPU.
 */
const TIMED = [
  'src-main/server/heartbeat.test.ts',
  'src-main/desktop/electron-launch-timed.test.ts',
  // Not timed, but hosts killed and restarted under load, and the run's shared PostgreSQL server paused (SIGSTOP):
  // alone, it neither slows nor stalls other files.
  'src-main/testing/checker/checker.test.ts',
];

export default defineConfig({
  test: {
    // A timeout finds a hung test; it measures nothing. At load 7 to 10 (the unit suite beside four busy
    // loops, issue 37) the heavier tests (an index rebuilt three times, 80 searches over 20,000 messages)
    // took more than 30 s, so the bound is two minutes; tests that say their own keep theirs.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['src-main/testing/global-setup.ts'],
    // Most test time is waiting (sockets, timers, child processes, PostgreSQL, NATS), not CPU. The
    // default, cores - 1, is one worker on a 2-core machine: the files ran one after another. On 2
    // cores at load 0.3-3, 3 workers took 70 and 66 s against 79 s with 2 (fresh cache each time).
    maxWorkers: 3,
    // Nothing a test starts announces or browses on this machine's real network; the discovery tests turn it on in namespaces.
    env: { LANCHAT_DISCOVERY: 'off' },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['src-main/**/*.test.ts', 'bench/**/*.test.ts', 'src-shared/**/*.test.ts', 'src-renderer/**/*.test.{ts,tsx}'],
          exclude: [...configDefaults.exclude, ...TIMED],
          // A worker keeps its modules from file to file instead of importing zod, SQLite and the
          // server again for each (that import was a third of the suite). Tests share no module
          // state: each builds its own room, store or app; hooks are registered per file or per test.
          isolate: false,
        },
      },
      // Modules kept between files here too: a fresh process per file added a second of start-up each to the tail.
      { extends: true, test: { name: 'timed', include: TIMED, maxWorkers: 1, isolate: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
