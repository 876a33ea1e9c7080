/** Reading stored messages back: a conversation's history, a sender's message by client id, the newest id. */
import { messages, row, rows, type Dialect, type Queries } from './query.js';
import { NO_UPPER_BOUND } from './rows.js';
import type { Store } from './types.js';

export type HistoryStore = Pick<Store, 'history' | 'messageByClientId' | 'lastMessageId'>;

export function historyQueries(d: Dialect): Queries<HistoryStore> {
  return {
    /** The newest `limit` before `before`, oldest first; one more id is read to tell whether there are older ones. */
    *history(conv, before, limit) {
      const ids = yield* rows<{ id: number }>('SELECT id FROM messages WHERE conv = $1 AND id < $2 ORDER BY id DESC LIMIT $3', [
        conv,
        before ?? NO_UPPER_BOUND,
        limit + 1,
      ]);
      return { messages: yield* messages(ids.slice(0, limit).map((found) => found.id)), hasMore: ids.length > limit };
    },
    *messageByClientId(senderId, clientMsgId) {
      const found = yield* row<{ id: number }>('SELECT id FROM messages WHERE sender_id = $1 AND client_msg_id = $2', [senderId, d.text(clientMsgId)]);
      return found && (yield* messages([found.id]))[0];
    },
    *lastMessageId() {
      return (yield* row<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM messages'))!.id;
    },
  };
}
