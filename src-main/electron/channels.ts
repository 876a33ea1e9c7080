/** The two IPC channels between the preload and the main process (shared by both bundles). */

/** renderer → main: ipcRenderer.invoke(CALL_CHANNEL, callName, args) resolves with the call's Result. */
export const CALL_CHANNEL = 'lanchat:call';
/** main → every window: one AppEvent per message. */
export const EVENT_CHANNEL = 'lanchat:event';
