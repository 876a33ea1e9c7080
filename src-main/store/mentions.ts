/**
 * The people a plain message's text mentions among those who can read the conversation, by the rule of
 * src-shared/mentions.ts (which devices follow for encrypted messages): every name the walk could try is
 * looked up in one statement; then the walk runs over the answers.
 */
import { ROOM } from '../../src-shared/protocol/conversation.js';
import { mentionChains, mentioned } from '../../src-shared/mentions.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { rows, type Dialect, type Query } from './query.js';

/** A mentioned user: who they are and how the message shows them. */
export interface Mentioned {
  id: number;
  name: string;
}

export function* findMentions(d: Dialect, conv: string, text: string): Query<Mentioned[]> {
  const chains = mentionChains(text);
  const keys = [...new Set(chains.flat().map(nameKey))];
  if (keys.length === 0) return [];
  const [kind, a, b] = conv.split(':');
  const users = yield* rows<Mentioned & { key: string; canRead: boolean | number }>(
    `SELECT id, name, name_key AS key,
       ($2 = 'room' OR ($2 = 'dm' AND id IN ($3, $4))
         OR ($2 = 'group' AND EXISTS (SELECT 1 FROM group_members WHERE group_id = $3 AND user_id = users.id))) AS "canRead"
     FROM users WHERE name_key IN ${d.list('$1', 'text')} AND status = 'active'`,
    [keys, conv === ROOM ? 'room' : kind, Number(a ?? 0), Number(b ?? 0)],
  );
  const byKey = new Map(users.map((user) => [user.key, user]));
  return mentioned(chains, (candidate) => byKey.get(nameKey(candidate)), (user) => Boolean(user.canRead)).map(({ id, name }) => ({ id, name }));
}
