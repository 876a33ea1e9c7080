import { foldCharacter, foldForSearch } from '../../src-shared/fold.js';

export interface TextPart {
  text: string;
  match: boolean;
}

/** Splits text around the first place where the query matches, both folded as the host's search folds them. */
export function splitAtMatch(text: string, query: string): TextPart[] {
  // Folded, then trimmed, as the host reads a query (store/search.ts).
  const needle = foldForSearch(query).trim();
  if (needle === '') return [{ text, match: false }];
  const chars = [...text];
  let folded = '';
  /** For each code unit of `folded`, the index of the character of `text` it came from. */
  const origin: number[] = [];
  chars.forEach((char, index) => {
    const piece = foldCharacter(char);
    folded += piece;
    for (let i = 0; i < piece.length; i++) origin.push(index);
  });
  const at = folded.indexOf(needle);
  if (at < 0) return [{ text, match: false }];
  const start = origin[at]!;
  const end = origin[at + needle.length - 1]! + 1;
  return [
    { text: chars.slice(0, start).join(''), match: false },
    { text: chars.slice(start, end).join(''), match: true },
    { text: chars.slice(end).join(''), match: false },
  ].filter((part) => part.text !== '');
}
