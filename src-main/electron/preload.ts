/**
 * The preload: gives the page `window.lanchat`, the App API over IPC, and nothing
 * else of Electron or Node. Runs sandboxed, so it is bundled to a single CommonJS
 * file (dist-main/electron/preload.cjs) whose only require is 'electron'.
 */
import { type IpcRendererEvent, contextBridge, ipcRenderer } from 'electron';
import type { AppApi, AppCallName, AppEvent } from '../../src-shared/api.js';
import { APP_CALLS } from '../../src-shared/api-schema.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js';

// The main process validates every call; this side only forwards the name and arguments.
const calls = Object.fromEntries(
  APP_CALLS.map((call) => [call, (...args: unknown[]) => ipcRenderer.invoke(CALL_CHANNEL, call, args)]),
) as Pick<AppApi, AppCallName>;

const api: AppApi = {
  ...calls,
  onEvent(listener) {
    // The page gets the event alone, never the IpcRendererEvent (it would reach ipcRenderer through it).
    const forward = (_event: IpcRendererEvent, appEvent: AppEvent): void => listener(appEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('lanchat', api);
