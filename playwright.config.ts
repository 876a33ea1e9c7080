/**
 * One worker. Two were tried (most of a spec's time is waiting), but on CI's two cores the call and flood
 * specs beside another spec starved both: a whole run took longer and failed on time. Specs are still
 * written to run beside any other, so that a second worker stays possible on a larger machine:
 * - ports: a room's from `freePort()` (ui.ts), never a fixed one on 127.0.0.1 (fixed ones only inside the
 *   network namespaces of a test LAN, which no other spec sees);
 * - files: its users' profiles come from the fixtures (each its own temporary home), anything else in a
 *   folder of its own (`mkdtempSync` under the system's temporary folder or `testInfo.outputPath()`),
 *   never a fixed path or one in the repository;
 * - processes: only those it started, stopped in its own fixture or `afterEach`/`afterAll`;
 * - no expectation about how fast anything is: the machine is shared.
 */
import { defineConfig } from '@playwright/test';

/** Debian's Chromium; Playwright never downloads a browser on these machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Shells the specs start neither announce nor look for rooms on this machine's real network;
// the discovery spec turns it on inside network namespaces.
process.env.LANCHAT_DISCOVERY ??= 'off';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    // A failed test's trace keeps its actions and DOM snapshots, not the screencast: recording the screencast
    // made every page draw and encode frames all along, about 10 s of a 3-user test's 55 s of CPU
    // (docs/bench-notes/2026-11-26-ci-time.md). The failure's own screenshot is still taken, and what each
    // user's shell and page printed is attached (e2e/fixtures.ts).
    trace: { mode: 'retain-on-failure', screenshots: false },
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Calls (e2e/calls.spec.ts): a fake camera and microphone (and screen), allowed without asking;
        // loopback candidates, as the test's peers all run on this machine.
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
      ],
    },
    locale: 'en-US',
  },
});
