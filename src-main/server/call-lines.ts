/**
 * Who hears of a call, and the line it leaves (voice-calls.ts): the readers of its conversation, and its
 * line there (missed, declined, ended with its length), stored and delivered like a message (§21.5).
 */
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { CallEvent } from '../../src-shared/protocol/objects.js';
import type { AsyncStore } from '../store/types.js';
import type { CallState } from './call-state.js';
import type { ServerLog } from './log.js';
import type { FanOut } from './outbound/fan-out.js';
import type { SerialQueue } from './serial.js';

/** The ids of the users who may read the conversation: a direct message's two, a group's members. */
export async function callReaders(store: AsyncStore, conv: ConversationKey): Promise<number[]> {
  const [kind, a, b] = conv.split(':');
  return kind === 'dm' ? [Number(a), Number(b)] : store.memberIds(Number(a));
}

/** What the English text of a call line says (clients that do not read callEvent show it). */
function lineText(call: CallState, kind: string, by: string, durationMs?: number): string {
  const what = call.video ? 'video call' : 'voice call';
  if (kind === 'declined') return `${by} declined the ${what}`;
  if (kind === 'missed') return `Missed ${what} from ${call.startedBy}`;
  const seconds = Math.round((durationMs ?? 0) / 1000);
  const length = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
  return `${what[0]!.toUpperCase()}${what.slice(1)} with ${call.startedBy} ended after ${length}`;
}

export interface CallLineOptions {
  store: AsyncStore;
  fanOut: FanOut;
  log: ServerLog;
  /** Everything that takes message ids, one at a time: the line takes one. */
  publish: SerialQueue;
}

/** Stores the call's line from `sender` and pushes it to the conversation's readers; a failure is logged, never thrown. */
export async function writeCallLine(
  { store, publish, fanOut, log }: CallLineOptions,
  call: CallState,
  kind: CallEvent['kind'],
  sender: number,
  ts: number,
  durationMs: number | undefined,
): Promise<void> {
  const [convKind, a, b] = call.conv.split(':');
  await publish
    .run(async () => {
      const by = sender === call.starterId ? call.startedBy : ((await store.userById(sender))?.name ?? call.startedBy);
      const callEvent: CallEvent = { kind, callId: call.id, video: call.video, ...(durationMs !== undefined ? { durationMs } : {}) };
      const other = convKind === 'dm' ? (Number(a) === sender ? Number(b) : Number(a)) : undefined;
      const [outcome] = await store.insertMessages([
        {
          conv: call.conv,
          senderId: sender,
          // One line per call and sender: a second try of the same line is a duplicate, never a second line.
          clientMsgId: `call:${call.id}`,
          text: lineText(call, kind, by, durationMs),
          ts,
          ...(other !== undefined ? { toUserId: other } : { groupId: Number(a) }),
          callEvent,
        },
      ]);
      if (!outcome || !('message' in outcome) || outcome.duplicate) return;
      const readers = outcome.readers ?? (await callReaders(store, call.conv));
      fanOut.registering(() => fanOut.push(readers, { type: 'message', message: outcome.message, ...(outcome.eventId !== undefined ? { eventId: outcome.eventId } : {}) }));
    })
    .catch((error: unknown) => log.error('call line not stored', { conv: call.conv, error: String(error) }));
}
