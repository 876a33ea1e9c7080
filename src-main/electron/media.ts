/**
 * Calls' media in the desktop app (issue 39): the microphone and camera, and a screen or window to
 * share through desktopCapturer, each allowed only to the app's page, only while in a room, and per
 * room once the user said yes (desktop/media-permissions.ts decides; this file asks and wires it).
 */
import { BrowserWindow, type WebContents, desktopCapturer, dialog, session } from 'electron';
import type { SessionView } from '../../src-shared/api.js';
import { MediaPermissions, type MediaRequest, roomKey, shareChoices } from '../desktop/media-permissions.js';

interface Room {
  key: string;
  name: string;
}

/** Sets the default session's permission handlers; `room` is the room the app is in now. */
export function allowCallMedia(profileDir: string, isAppPage: (url: string) => boolean, room: () => Room | null): void {
  const permissions = new MediaPermissions(profileDir);
  const ses = session.defaultSession;
  const requestOf = (url: string, permission: string): MediaRequest => ({ permission, fromAppPage: isAppPage(url), room: room()?.key ?? null });

  /** Asks once per room; what the user allows holds for that room from then on. */
  async function decided(contents: WebContents | null, request: MediaRequest): Promise<boolean> {
    const decision = permissions.decide(request);
    if (decision !== 'ask') return decision === 'allow';
    const here = room();
    if (!here) return false;
    const window = contents ? BrowserWindow.fromWebContents(contents) : null;
    const options = {
      type: 'question' as const,
      buttons: ['Allow', 'Don’t allow'],
      defaultId: 0,
      cancelId: 1,
      message: `Allow calls in “${here.name}” to use your microphone, camera and screen?`,
      detail: 'Only for calls in this room. Media goes directly to the people in the call, not through the host.',
    };
    const { response } = window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
    if (response !== 0) return false;
    permissions.grant(here.key);
    return true;
  }

  ses.setPermissionRequestHandler((contents, permission, callback) => {
    void decided(contents, requestOf(contents.getURL(), permission)).then(callback, () => callback(false));
  });
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissions.allowed(requestOf(requestingOrigin, permission)));
  ses.setDisplayMediaRequestHandler((request, callback) => {
    const url = request.frame?.url ?? request.securityOrigin;
    void (async () => {
      const contents = BrowserWindow.getFocusedWindow()?.webContents ?? null;
      if (!(await decided(contents, requestOf(url, 'display-capture')))) return callback(null);
      const sources = shareChoices(await desktopCapturer.getSources({ types: ['screen', 'window'] }));
      if (sources.length === 0) return callback(null);
      const window = BrowserWindow.getFocusedWindow();
      const options = { type: 'question' as const, buttons: [...sources.map((source) => source.name), 'Cancel'], cancelId: sources.length, message: 'Share which screen or window?' };
      const { response } = window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
      const chosen = sources[response];
      callback(chosen ? { video: chosen } : null);
    })().catch(() => callback(null));
  });
}

/** The room a session view is in, as grants are kept. */
export function roomOfSession(view: SessionView): Room | null {
  return view.roomName !== null && view.server ? { key: roomKey(view.roomName, view.server), name: view.roomName } : null;
}
