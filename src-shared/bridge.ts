/**
 * The browser shell's bridge: the App API carried over one WebSocket at
 * ws://127.0.0.1:<ui-port>/api?token=<token>. Each text message is one JSON object.
 *
 * renderer → shell: { "id": <number>, "call": <AppCallName>, "args": [ ...call arguments ] }
 * shell → renderer: { "id": <number>, "result": Result }   the answer to that call
 *                   { "event": AppEvent }                   every event, to every window
 *
 * The shell accepts the socket only with the run's token and an Origin of its own
 * http://127.0.0.1:<ui-port>; anything else is refused before the upgrade.
 */
import type { AppEvent, Result } from './api.js';

export const BRIDGE_PATH = '/api';

export interface BridgeCall {
  id: number;
  /** An AppCallName, once the shell has checked it. */
  call: string;
  args: unknown[];
}

export type BridgeMessage = { id: number; result: Result<unknown> } | { event: AppEvent };
