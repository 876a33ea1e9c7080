/**
 * The browser shell's entry point: `npm run web -- [--profile <name>] [--ui-port <n>]`.
 * The same React UI as the desktop app, in a browser, on this machine only.
 */
import { runBrowserShell } from './run.js';

runBrowserShell(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`lanchat: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
