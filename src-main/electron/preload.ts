/**
 * The preload: gives the page `window.lanchat`, the App API's transport over IPC
 * (one call function and the event subscription), and nothing else of Electron or
 * Node. Runs sandboxed, so it is bundled to a single CommonJS file
 * (dist-main/electron/preload.cjs) whose only require is 'electron'.
 */
import { type IpcRendererEvent, contextBridge, ipcRenderer, webUtils } from 'electron';
import type { AppEvent, AppTransport } from '../../src-shared/api.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js';

const transport: AppTransport = {
  // The main process validates every call; this side only forwards the name and arguments.
  call: (call, args) => ipcRenderer.invoke(CALL_CHANNEL, call, args),
  onEvent(listener) {
    // The page gets the event alone, never the IpcRendererEvent (it would reach ipcRenderer through it).
    const forward = (_event: IpcRendererEvent, appEvent: AppEvent): void => listener(appEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
  // A dropped or picked file's path, so sendFiles reads it from disk; '' for a pasted image, which has none.
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('lanchat', transport);
