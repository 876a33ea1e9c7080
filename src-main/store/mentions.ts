/**
 * The people a text mentions among those who can read the conversation: each `@name` as written,
 * then without trailing dots, dashes or underscores ("@bob." ends a sentence), at most
 * MAX_MENTION_TRIES look-ups. Every name the walk could try is looked up in one statement; then the
 * walk runs over the answers.
 */
import { ROOM } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { rows, type Dialect, type Query } from './query.js';

/** A mentioned user: who they are and how the message shows them. */
export interface Mentioned {
  id: number;
  name: string;
}

/** `@name`: a name's characters (letters, digits, marks, _ . -) after an @ that does not continue a word. */
const MENTION = /(?<![\p{L}\p{N}\p{M}_.-])@([\p{L}\p{N}\p{M}_.-]+)/gu;
const MAX_MENTION_TRIES = 50;

/**
 * The names the walk may try for each `@name`, in order. Each `@name` costs the walk at least
 * one look-up, so it reaches at most MAX_MENTION_TRIES of them, and as many names of each.
 */
function candidateChains(text: string): string[][] {
  const chains: string[][] = [];
  for (const match of text.matchAll(MENTION)) {
    if (chains.length === MAX_MENTION_TRIES) break;
    const chain: string[] = [];
    let candidate = match[1]!;
    while (candidate !== '' && chain.length < MAX_MENTION_TRIES) {
      chain.push(candidate);
      const shorter = candidate.replace(/[._-]$/, '');
      if (shorter === candidate) break;
      candidate = shorter;
    }
    chains.push(chain);
  }
  return chains;
}

export function* findMentions(d: Dialect, conv: string, text: string): Query<Mentioned[]> {
  if (!text.includes('@')) return [];
  const chains = candidateChains(text);
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
  const found = new Map<number, Mentioned>();
  let tries = 0;
  for (const chain of chains) {
    for (const candidate of chain) {
      if (tries === MAX_MENTION_TRIES) break;
      tries += 1;
      const user = byKey.get(nameKey(candidate));
      if (user) {
        if (user.canRead) found.set(user.id, { id: user.id, name: user.name });
        break;
      }
    }
  }
  return [...found.values()];
}
