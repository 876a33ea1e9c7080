/**
 * Runs the browser shell for a profile: `[--profile <name>] [--ui-port <n>]`.
 * Prints `UI: http://127.0.0.1:<port>/?token=<token>` once ready (the only line on
 * stdout, so scripts and tests can read it) and stops cleanly on SIGINT or SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AppCore } from '../core/app.js';
import { downloadsDir, outgoingDir } from '../core/transfers-file.js';
import { DEFAULT_PROFILE, profileDirectory } from '../core/profile.js';
import { ensureProfileDir } from '../core/profile-files.js';
import { ResumingCore } from '../core/resume.js';
import { lockProfile } from '../desktop/profile-lock.js';
import { startWebShell } from './shell.js';
import { keyringTokenSealer } from './keyring.js';

export const BROWSER_SHELL_USAGE = 'options: [--profile <name>] [--ui-port <port, 0 = any free port>]';

/** The renderer's build output, at the repository root (the same two levels up from src-main/web and dist-main/web). */
const STATIC_DIR = fileURLToPath(new URL('../../dist-renderer/', import.meta.url));

function parseOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        profile: { type: 'string', default: DEFAULT_PROFILE },
        'ui-port': { type: 'string', default: '0' },
      },
      strict: true,
    });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${BROWSER_SHELL_USAGE}`);
  }
}

export async function runBrowserShell(argv: string[]): Promise<{ url: string }> {
  const { values } = parseOptions(argv);
  const uiPort = Number(values['ui-port']);
  if (!Number.isInteger(uiPort) || uiPort < 0 || uiPort > 65535) {
    throw new Error(`--ui-port must be 0 to 65535\n${BROWSER_SHELL_USAGE}`);
  }

  const profileDir = profileDirectory(values.profile);
  ensureProfileDir(profileDir);
  const lock = lockProfile(profileDir);
  if (!lock.ok) throw new Error(`the profile ${profileDir} is in use by another LanChat (process ${lock.pid})`);
  process.once('exit', () => lock.release());
  const sealer = keyringTokenSealer(profileDir);
  const core = new ResumingCore(new AppCore({ profileDir, tokenSealer: sealer }), profileDir, { sealer });
  const files = { downloadsDir: downloadsDir(profileDir), outgoingDir: outgoingDir(profileDir) };
  const shell = await startWebShell({ core, uiPort, staticDir: STATIC_DIR, files }).catch(async (error: unknown) => {
    await core.shutdown();
    throw error;
  });
  console.log(`UI: ${shell.url}`);
  void core.resume();

  const stop = (signal: string): void => {
    console.error(`lanchat: stopping (${signal})`);
    core
      .shutdown()
      .then(() => shell.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`lanchat: error while stopping: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return { url: shell.url };
}
