/**
 * The desktop app's main process: `electron . [--profile <name>]`. One instance
 * per profile; the core runs here, the UI in sandboxed windows that reach it only
 * through the preload's App API. At start it rejoins the room it was in.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { app, dialog } from 'electron';
import { allowCallMedia, roomOfSession } from './media.js';
import { AppCore } from '../core/app.js';
import { DEFAULT_PROFILE, profileDirectory } from '../core/profile.js';
import { ensureProfileDir } from '../core/profile-files.js';
import { ResumingCore } from '../core/resume.js';
import { unreadFromTitle } from '../desktop/badge.js';
import { lockProfile } from '../desktop/profile-lock.js';
import { WindowStateFile } from '../desktop/window-state.js';
import { DesktopIntegration } from './desktop.js';
import { electronFiles } from './files.js';
import { connectIpc } from './ipc.js';
import { osTokenSealer } from './token-sealer.js';
import { AppWindows } from './windows.js';

// The build puts main.js and preload.cjs in dist-main/electron, the UI in dist-renderer.
const INDEX_FILE = fileURLToPath(new URL('../../dist-renderer/index.html', import.meta.url));
const PRELOAD_FILE = fileURLToPath(new URL('./preload.cjs', import.meta.url));
// Packaged with the app (electron-builder.yml files), for the tray.
const ICON_FILE = fileURLToPath(new URL('../../build/icon.png', import.meta.url));

function profileName(): string {
  // Electron passes its own and Chromium's switches through as well; only --profile is ours.
  const { values } = parseArgs({
    args: process.argv.slice(app.isPackaged ? 1 : 2),
    options: { profile: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  return typeof values.profile === 'string' ? values.profile : DEFAULT_PROFILE;
}

function cannotStart(message: string): void {
  dialog.showErrorBox('LanChat cannot start', message);
  app.exit(1);
}

async function main(): Promise<void> {
  const profileDir = profileDirectory(profileName());
  // Chromium keeps its lock and storage in userData, so a folder per profile makes the
  // single-instance lock per profile: two profiles run side by side, one profile once.
  app.setPath('userData', profileDir);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  // Also held by the browser shell: the two must not run one profile at once either.
  ensureProfileDir(profileDir);
  const lock = lockProfile(profileDir);
  if (!lock.ok) {
    await app.whenReady();
    cannotStart(`The profile ${profileDir} is in use by another LanChat (process ${lock.pid}). Close it, or start with another --profile.`);
    return;
  }
  app.once('will-quit', () => lock.release());
  // Windows shows notifications only for an app with an explicit user model id.
  app.setAppUserModelId('org.lanchat.app');
  await app.whenReady();
  if (!existsSync(INDEX_FILE)) {
    cannotStart(`The UI is not built (${INDEX_FILE} is missing): run "npm run build".`);
    return;
  }

  // The page gets no permission but a call's media, per room (media.ts): notifications come from this
  // process (desktop.ts), natively, and open their conversation.
  let room: ReturnType<typeof roomOfSession> = null;

  let desktop: DesktopIntegration | null = null;
  const windows = new AppWindows({
    indexFile: INDEX_FILE,
    preloadFile: PRELOAD_FILE,
    windowState: new WindowStateFile(profileDir),
    onMainTitle: (title) => desktop?.showUnread(unreadFromTitle(title), title),
  });
  const sealer = osTokenSealer();
  const core = new ResumingCore(
    new AppCore({
      profileDir,
      tokenSealer: sealer,
      desktopFiles: electronFiles,
      openChatWindow: async (conv) => {
        windows.showChat(conv);
        return { ok: true, value: undefined };
      },
    }),
    profileDir,
    { sealer },
  );
  core.onEvent((event) => {
    if (event.type === 'session') room = roomOfSession(event.session);
  });
  allowCallMedia(profileDir, windows.isAppPage, () => room);
  connectIpc(core, windows.isAppPage);
  desktop = new DesktopIntegration(core, windows, ICON_FILE);
  desktop.start();
  windows.showMain();
  void core.resume();

  app.on('second-instance', () => windows.showMain());
  app.on('activate', () => windows.showMain());
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quitting waits for the core: others see this user leave, and a hosted room tells its
  // clients it is shutting down instead of vanishing.
  let shutdown: Promise<void> | null = null;
  let shutDown = false;
  app.on('before-quit', (event) => {
    if (shutDown) return;
    event.preventDefault();
    shutdown ??= core
      .shutdown()
      .catch((error: unknown) => console.error(`lanchat: error while stopping: ${String(error)}`))
      .finally(() => {
        shutDown = true;
        app.quit();
      });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());
}

main().catch((error: unknown) => cannotStart(error instanceof Error ? error.message : String(error)));
