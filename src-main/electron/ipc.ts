/**
 * The App API over IPC: one invoke channel for every call, routed to the core
 * (which validates it with parseCall), and one channel that carries every
 * AppEvent to every window.
 */
import { BrowserWindow, type IpcMainInvokeEvent, ipcMain } from 'electron';
import { AppErrorCode, type Result } from '../../src-shared/api.js';
import type { Core } from '../core/resume.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js';

export function connectIpc(core: Core, isAppPage: (url: string) => boolean): void {
  ipcMain.handle(CALL_CHANNEL, (event: IpcMainInvokeEvent, call: unknown, args: unknown): Promise<Result<unknown>> => {
    // Only the app's own page may call; anything else that got a frame into a window is refused.
    if (!event.senderFrame || !isAppPage(event.senderFrame.url)) {
      return Promise.resolve({
        ok: false,
        error: { code: AppErrorCode.INVALID_ARGUMENT, message: 'calls come only from LanChat pages' },
      });
    }
    return core.dispatch(call, args);
  });
  core.onEvent((appEvent) => {
    for (const window of BrowserWindow.getAllWindows()) {
      if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, appEvent);
    }
  });
}
