/**
 * Calls in the terminal client (issue 39, docs/PROTOCOL.md §21): a terminal has no microphone or camera,
 * so it shows a ring as a line and declines it politely, saying so; the call's line in the history
 * (missed, declined, ended) comes as a message.
 */
import type { CallInfo } from '../../src-shared/protocol/calls.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatClient } from '../client/client.js';

/** Prints rings and declines them. `where` names a conversation as the session's message lines do. */
export function followCalls(client: ChatClient, me: string, print: (line: string) => void, where: (call: CallInfo) => string): void {
  const declined = new Set<string>();
  client.on('call', ({ call }) => {
    if (call.state !== 'ringing' || nameKey(call.startedBy) === nameKey(me) || declined.has(call.id)) return;
    if (call.declined.some((name) => nameKey(name) === nameKey(me))) return;
    declined.add(call.id);
    const kind = call.video ? 'video' : 'voice';
    print(`*** ${call.startedBy} is calling you (${kind}) in ${where(call)}; the terminal cannot take calls, so it declined (answer from the app)`);
    client.request('callDecline', { callId: call.id }).catch((error: unknown) => print(`! could not decline the call: ${error instanceof Error ? error.message : String(error)}`));
  });
}
