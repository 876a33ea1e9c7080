/**
 * End-to-end encryption as the windows show it (issue 35): which conversations are encrypted, and the
 * notices the app gives about them (someone it cannot encrypt to, a contact's devices changing).
 */
import type { AppEvent, SessionView } from '../../src-shared/api.js';
import { encryptable } from '../../src-shared/e2ee-app.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import type { AppStore } from './index.js';

/** DMs and groups are end-to-end encrypted on a host with the encrypted layer; the room never is. */
export function isEncryptedConversation(session: Pick<SessionView, 'features'>, conv: ConversationKey): boolean {
  return encryptable(conv) && (session.features ?? []).includes('mls');
}

/** A notice goes into its conversation once: the same one again (each refused send repeats it) is not added. */
export function noteE2ee(store: AppStore, event: Extract<AppEvent, { type: 'e2eeNotice' }>): void {
  const state = store.getState();
  const kind = event.kind === 'unreachable' ? 'e2eeUnreachable' : 'devicesChanged';
  const held = state.notices[event.conv] ?? [];
  const fresh = event.users.filter((user) => {
    const last = held.findLast((notice) => sameName(notice.user, user) && (notice.kind === 'e2eeUnreachable' || notice.kind === 'devicesChanged'));
    return last === undefined || last.kind !== kind || kind === 'devicesChanged';
  });
  if (fresh.length > 0) state.addNotices(event.conv, fresh.map((user) => ({ kind, user, ts: event.ts })));
}
