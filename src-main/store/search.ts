/**
 * Search: the query is folded like stored text (foldForSearch) and matched as
 * one literal substring of messages.folded, newest first, among the messages
 * the searcher may see.
 */
import { dmConversation } from '../../src-shared/protocol.js';
import { foldForSearch } from '../../src-shared/text.js';
import type { PageOf } from './messages.js';
import { NO_UPPER_BOUND, VISIBLE_TO_ME, type Db } from './rows.js';
import type { Store } from './types.js';

/**
 * FTS5 query for the messages holding every trigram of the needle (the index
 * keeps no positions, so the caller confirms the substring with instr).
 * Each trigram is a quoted string with inner quotes doubled, so operators and
 * syntax in user input (OR, NEAR(, *, -, ^, :) stay plain text.
 * Returns undefined below three characters (code points, not UTF-16 units):
 * the trigram index cannot look those up.
 */
function trigramQuery(needle: string): string | undefined {
  const characters = [...needle];
  if (characters.length < 3) return undefined;
  const trigrams = new Set<string>();
  for (let start = 0; start + 3 <= characters.length; start++) {
    trigrams.add(characters.slice(start, start + 3).join(''));
  }
  return [...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ');
}

export function searchQueries(db: Db, pageOf: PageOf): Pick<Store, 'search'> {
  // Each returns up to @limit ids, newest first.
  const byTrigrams = db
    .prepare<{ me: number; trigrams: string; needle: string; before: number; limit: number }, number>(
      // CROSS JOIN keeps the full-text index as the outer loop, read newest first.
      `SELECT m.id FROM message_search f CROSS JOIN messages m ON m.id = f.rowid
       WHERE message_search MATCH @trigrams AND f.rowid < @before
         AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
       ORDER BY f.rowid DESC LIMIT @limit`,
    )
    .pluck();
  /** Short needles: walks messages newest first and stops at @limit, as most messages match. */
  const byScan = db
    .prepare<{ me: number; needle: string; before: number; limit: number }, number>(
      `SELECT m.id FROM messages m
       WHERE m.id < @before AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
       ORDER BY m.id DESC LIMIT @limit`,
    )
    .pluck();
  /**
   * With a person: reads only the person's messages (through the
   * (sender_id, client_msg_id) index) and the rest of our direct conversation,
   * i.e. mine to them (messages_by_conv), whatever the needle. One person's
   * share of all messages is small, so this beats walking the trigram index's
   * matches for everyone. instr(folded, '') is 1: an empty needle keeps all.
   */
  const withPerson = db
    .prepare<{ me: number; needle: string; person: number; dmConv: string; before: number; limit: number }, number>(
      `SELECT m.id FROM messages m
       WHERE m.sender_id = @person AND m.id < @before AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
       UNION ALL
       SELECT m.id FROM messages m
       WHERE m.conv = @dmConv AND m.sender_id <> @person AND m.id < @before AND instr(m.folded, @needle) > 0
       ORDER BY 1 DESC LIMIT @limit`,
    )
    .pluck();

  return {
    /**
     * "good morning" finds messages holding exactly that phrase, not the two words
     * apart. Without a person, three characters or more go through the trigram
     * index and shorter ones scan messages newest first.
     */
    search: (userId, options) => {
      const { personId, limit } = options;
      const needle = foldForSearch(options.query).trim();
      const common = { me: userId, needle, before: options.before ?? NO_UPPER_BOUND, limit: limit + 1 };
      let newestFirst: number[];
      if (personId !== undefined) {
        newestFirst = withPerson.all({ ...common, person: personId, dmConv: dmConversation(userId, personId) });
      } else if (needle === '') {
        return { messages: [], hasMore: false };
      } else {
        const trigrams = trigramQuery(needle);
        newestFirst = trigrams ? byTrigrams.all({ ...common, trigrams }) : byScan.all(common);
      }
      return pageOf(newestFirst, limit, 'newest first');
    },
  };
}
