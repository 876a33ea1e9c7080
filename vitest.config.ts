import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src-main/**/*.test.ts', 'bench/**/*.test.ts', 'src-shared/**/*.test.ts', 'src-renderer/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Nothing a test starts announces or browses on this machine's real network; the discovery tests turn it on in namespaces.
    env: { LANCHAT_DISCOVERY: 'off' },
  },
});
