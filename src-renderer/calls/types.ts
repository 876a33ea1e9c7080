/** The call types the renderer uses, from the App API (src-shared/protocol/calls.ts). */
import type { AppEvent } from '../../src-shared/api.js';

export type { CallInfo, CallParticipant, CallSignal } from '../../src-shared/api.js';
export type CallSignalEvent = Extract<AppEvent, { type: 'callSignal' }>;
