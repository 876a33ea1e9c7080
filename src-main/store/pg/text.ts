/**
 * Message text as PostgreSQL keeps it. A PostgreSQL text value cannot hold U+0000, which the
 * protocol allows in a message's text and client id, so those and the folded text are stored with U+0000 written as
 * U+FFFE U+FFFE, and the two noncharacters this uses escaped as U+FFFE U+FFFF and U+FFFF U+FFFF.
 * The code is reversible, and a substring search over stored text finds exactly what it finds
 * over the text itself for any needle without U+FFFE or U+FFFF (escape pairs hold only those two,
 * so other characters always match at character boundaries).
 */
const TO_ESCAPE = /[\0\uFFFE\uFFFF]/g;
const ESCAPED = /\uFFFE\uFFFE|\uFFFE\uFFFF|\uFFFF\uFFFF/g;
const ENCODE: Record<string, string> = { '\0': '\uFFFE\uFFFE', '\uFFFE': '\uFFFE\uFFFF', '\uFFFF': '\uFFFF\uFFFF' };
const DECODE: Record<string, string> = { '\uFFFE\uFFFE': '\0', '\uFFFE\uFFFF': '\uFFFE', '\uFFFF\uFFFF': '\uFFFF' };

export function storedText(text: string): string {
  return text.replace(TO_ESCAPE, (character) => ENCODE[character]!);
}

export function readText(stored: string): string {
  return stored.replace(ESCAPED, (pair) => DECODE[pair]!);
}
