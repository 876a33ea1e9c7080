/** Open, Show in folder and Save as… for received files, with Electron's shell and dialog; what may be opened is decided in core/files.ts. */
import { BrowserWindow, dialog, shell } from 'electron';
import type { DesktopFiles } from '../core/files.js';

export const electronFiles: DesktopFiles = {
  open: (path) => shell.openPath(path),
  showInFolder: (path) => shell.showItemInFolder(path),
  async chooseSavePath(name) {
    const options = { defaultPath: name };
    const window = BrowserWindow.getFocusedWindow();
    const chosen = await (window ? dialog.showSaveDialog(window, options) : dialog.showSaveDialog(options));
    return chosen.canceled || !chosen.filePath ? null : chosen.filePath;
  },
};
