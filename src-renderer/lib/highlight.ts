/** Folds one character the way the host's search does: case, dotted/dotless i and diacritics ignored. */
function fold(char: string): string {
  return char.normalize('NFKD').replace(/\p{M}/gu, '').replace(/ı/g, 'i').toLowerCase();
}

export interface TextPart {
  text: string;
  match: boolean;
}

/** Splits text around the first place where the folded query matches, for highlighting. */
export function splitAtMatch(text: string, query: string): TextPart[] {
  const needle = [...query.trim()].map(fold).join('');
  if (needle === '') return [{ text, match: false }];
  const chars = [...text];
  let folded = '';
  /** For each code unit of `folded`, the index of the character of `text` it came from. */
  const origin: number[] = [];
  chars.forEach((char, index) => {
    const piece = fold(char);
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
