/**
 * Calls a shell's App API directly over its bridge, as a second window of that app would:
 * for what the UI offers no control for (a mute of a few seconds) or a second window's send.
 */
import { WebSocket } from 'ws';
import type { Result } from '../src-shared/api.js';
import { BRIDGE_PATH, type BridgeMessage } from '../src-shared/bridge.js';
import type { ShellUser } from './shell.js';

export async function callApp(user: ShellUser, call: string, args: unknown[]): Promise<Result<unknown>> {
  const ui = new URL(user.url);
  const socket = new WebSocket(`ws://${ui.host}${BRIDGE_PATH}?token=${ui.searchParams.get('token')}`, { origin: ui.origin });
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return await new Promise<Result<unknown>>((resolve, reject) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as BridgeMessage;
        if ('id' in message && message.id === 1) resolve(message.result);
      });
      socket.once('close', () => reject(new Error(`the bridge closed before answering ${call}`)));
      socket.send(JSON.stringify({ id: 1, call, args }));
    });
  } finally {
    socket.close();
  }
}
