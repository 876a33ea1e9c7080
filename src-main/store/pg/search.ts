/**
 * Search with the SQLite store's semantics (../search.ts): the query is folded like stored text
 * (foldForSearch, in JS: the one definition of folding) and matched as one literal substring of
 * messages.folded, newest first, among the messages the searcher may see; with a person, only
 * what they wrote where the searcher can see it and the direct messages between the two.
 *
 * The substring test is LIKE '%needle%' with the needle's wildcards escaped; pg_trgm's GIN index
 * on messages.folded answers it for needles of three characters or more. Shorter needles (and
 * searches with a person) walk the messages newest first by their indexes. The work runs in
 * PostgreSQL, never on the event loop; a search whose signal is aborted is cancelled there
 * (pg_cancel_backend) and rejects with the signal's reason.
 */
import type pg from 'pg';
import { dmConversation } from '../../../src-shared/protocol/conversation.js';
import { foldForSearch } from '../../../src-shared/fold.js';
import type { AsyncStore } from '../types.js';
import { NO_UPPER_BOUND } from '../rows.js';
import { pageOf, VISIBLE_TO_ME } from './rows.js';
import { storedText } from './text.js';

/** A LIKE pattern that holds `text` anywhere; \ % _ in it are taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

const EVERYONE = `SELECT m.id FROM messages m
  WHERE m.id < $2 AND m.folded LIKE $3 AND ${VISIBLE_TO_ME}
  ORDER BY m.id DESC LIMIT $4`;

/** The empty needle keeps all the person wrote; membership lines (nobody wrote them) never. */
const WITH_PERSON = `SELECT id FROM (
    SELECT m.id FROM messages m
    WHERE m.sender_id = $5 AND m.id < $2 AND m.folded LIKE $3 AND m.group_event IS NULL AND ${VISIBLE_TO_ME}
    UNION ALL
    SELECT m.id FROM messages m
    WHERE m.conv = $6 AND m.id < $2 AND m.sender_id <> $5 AND m.folded LIKE $3
  ) AS found ORDER BY id DESC LIMIT $4`;

export function searchQuery(pool: pg.Pool): Pick<AsyncStore, 'search'> {
  return {
    search: async (userId, options) => {
      const { personId, limit, signal } = options;
      const needle = foldForSearch(options.query).trim();
      if (personId === undefined && needle === '') return { messages: [], hasMore: false };
      signal?.throwIfAborted();
      const values: unknown[] = [userId, options.before ?? NO_UPPER_BOUND, containing(storedText(needle)), limit + 1];
      if (personId !== undefined) values.push(personId, dmConversation(userId, personId));
      const client = await pool.connect();
      if (signal?.aborted) {
        client.release();
        signal.throwIfAborted();
      }
      const cancel = (): void => {
        void pool.query('SELECT pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID]).catch(() => undefined);
      };
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        // The search and its page in one statement, on a client of its own so that it can be cancelled.
        const rows = async <Row>(text: string, rowValues?: unknown[]): Promise<Row[]> => (await client.query({ text, values: rowValues })).rows as Row[];
        return await pageOf({ rows }, personId === undefined ? EVERYONE : WITH_PERSON, values, limit, 'newest', 'newest first');
      } catch (error) {
        signal?.throwIfAborted();
        throw error;
      } finally {
        signal?.removeEventListener('abort', cancel);
        // A cancelled search's connection is closed, not reused: the cancel could still reach its next query.
        client.release(signal?.aborted ? new Error('search cancelled') : undefined);
      }
    },
  };
}
