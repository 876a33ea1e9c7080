/**
 * What search reads of a message (migration 017): its folded text (foldForSearch), kept only where folding
 * changed the text. A text that folds to itself (lower-case words, U+FDFA, most scripts without case) is
 * searched as it is, with '' in its folded column, as a membership line has, which group_event tells apart:
 * such a text is stored once instead of twice (issue 33: 16 MB of U+FDFA took 38.7 MB).
 */

/** The SQL of the text search reads, of the messages row named `row`. */
export const searchedText = (row: string): string =>
  `(CASE WHEN ${row}.folded = '' AND ${row}.group_event IS NULL THEN ${row}.text ELSE ${row}.folded END)`;

/** What goes into the folded column for a text and its fold. */
export function storedFold(text: string, folded: string): string {
  return folded === text ? '' : folded;
}
