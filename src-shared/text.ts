/**
 * Text rules shared by server and clients: how names are checked and compared,
 * and how text is folded for search.
 */
import { remove as removeConfusables } from 'confusables';
import { LIMITS } from './protocol/limits.js';

const COMBINING_MARKS = /\p{M}/gu;

/**
 * Folds text for search: case-insensitive with Turkish dotted/dotless i treated
 * as one letter (İ, I, ı, i all match each other), and diacritics ignored
 * (ş = s, ğ = g, ü = u, é = e). Applied to stored text and to queries alike.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFKD').replace(COMBINING_MARKS, '').replace(/ı/g, 'i').toLowerCase();
}

/** Letters, digits and combining marks of any script, plus _ . - */
const NAME_PATTERN = /^[\p{L}\p{N}_.-]+$/u;
/** Group names may also hold spaces and common punctuation, but never "~" (the CLI's separator). */
const GROUP_NAME_PATTERN = /^[\p{L}\p{N}\p{M}_.\-' ()&+#!?,]+$/u;
/**
 * Control, format (invisible, bidi), surrogate, private-use and unassigned code points,
 * and the default-ignorable ones that count as letters or marks but show nothing
 * (Hangul fillers, the combining grapheme joiner, variation selectors).
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Checks a user name and returns its canonical (NFC) form. */
export function checkUserName(raw: string, maxLength: number = LIMITS.maxNameLength): NameCheck {
  const name = raw.normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'a name cannot be empty' };
  if ([...name].length > maxLength) {
    return { ok: false, reason: `a name has at most ${maxLength} characters` };
  }
  if (FORBIDDEN.test(name)) return { ok: false, reason: 'a name cannot hold control, invisible or bidi characters' };
  if (!NAME_PATTERN.test(name.replace(COMBINING_MARKS, ''))) {
    return { ok: false, reason: 'a name may hold only letters, digits, "_", "." and "-"' };
  }
  if (/^\p{M}/u.test(name)) return { ok: false, reason: 'a name cannot start with a combining mark' };
  return { ok: true, name };
}

/** Checks a group name and returns its canonical form (NFC, inner spaces collapsed). */
export function checkGroupName(raw: string, maxLength: number = LIMITS.maxGroupNameLength): NameCheck {
  const name = raw.normalize('NFC').trim().replace(/ {2,}/g, ' ');
  if (name.length === 0) return { ok: false, reason: 'a group name cannot be empty' };
  if ([...name].length > maxLength) {
    return { ok: false, reason: `a group name has at most ${maxLength} characters` };
  }
  if (FORBIDDEN.test(name)) {
    return { ok: false, reason: 'a group name cannot hold control, invisible or bidi characters' };
  }
  if (!GROUP_NAME_PATTERN.test(name)) {
    return { ok: false, reason: 'a group name may hold letters, digits, spaces and _ . - \' ( ) & + # ! ? ,' };
  }
  return { ok: true, name };
}

const LOOKALIKE_DIGITS: Record<string, string> = { '0': 'o', '1': 'l', '5': 's', '|': 'l' };

/**
 * What a name looks like: confusable letters of other scripts mapped to Latin,
 * diacritics dropped, case folded, look-alike digits and letter pairs merged.
 * Two different accounts may never share a skeleton, so "аlice" (Cyrillic а)
 * or "a1ice" cannot pose as "alice".
 */
export function nameSkeleton(name: string): string {
  const latin = removeConfusables(name.normalize('NFKC'));
  return foldForSearch(latin)
    .replace(/[015|]/g, (d) => LOOKALIKE_DIGITS[d] ?? d)
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/[_.-]/g, '');
}

/**
 * Every skeleton a new name must not share with an existing account: its own,
 * with Greek and Cyrillic capital I read as Latin I, and with any capital I read
 * as l ("aIice" posing as "alice"). Only the first is stored, because "ALICE"
 * and "alice" must keep one skeleton.
 */
export function lookalikeSkeletons(name: string): string[] {
  const latinI = name.replace(/[\u0399\u0406\u04C0]/g, 'I');
  return [...new Set([nameSkeleton(name), nameSkeleton(latinI), nameSkeleton(latinI.replace(/I/g, 'l'))])];
}
