/**
 * How text is folded for search, with no dependency: the host folds stored text and queries with it,
 * the renderer the text it highlights, so a match the host found is the one marked.
 */
/** Combining marks (accents and the like): folding drops them, and so do name comparisons (text.ts). */
export const COMBINING_MARKS = /\p{M}/gu;

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Folds text for search: case-insensitive with Turkish dotted/dotless i treated
 * as one letter (İ, I, ı, i all match each other), Greek final sigma as sigma,
 * diacritics ignored (ş = s, ğ = g, ü = u, é = e), compatibility forms read as
 * what they stand for (ｗ = w). Applied to stored text and to queries alike.
 *
 * Character by character, and never longer than the character: a compatibility
 * form that stands for more (U+FDFA is 18 letters, ﬁ two) is kept as itself, so
 * the folded text, stored and indexed beside the text, is never longer than it.
 */
export function foldForSearch(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let folded = '';
  for (const character of text) folded += foldCharacter(character);
  return folded;
}

/** One character folded (foldForSearch's step): never longer than the character. */
export function foldCharacter(character: string): string {
  const compatible = foldForm(character, 'NFKD');
  if (compatible.length <= character.length) return compatible;
  const canonical = foldForm(character, 'NFD');
  return canonical.length <= character.length ? canonical : character;
}

function foldForm(character: string, form: 'NFKD' | 'NFD'): string {
  return character.normalize(form).replace(COMBINING_MARKS, '').replace(/ı/g, 'i').toLowerCase().replace(/ς/g, 'σ');
}
