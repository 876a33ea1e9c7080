/**
 * Text rules shared by server and clients: how names are checked and compared.
 * How text is folded for search is fold.ts, which the renderer imports too.
 */
import unhomoglyph from 'unhomoglyph';
import { COMBINING_MARKS } from './fold.js';
import { LIMITS } from './protocol/limits.js';

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

/**
 * UTS #39 skeleton: each character replaced by its prototype in the Unicode
 * confusables data (unhomoglyph ships it), between two NFDs; then, as names go,
 * diacritics and the separators _ . - dropped. Case is kept: the data maps
 * capital I to l but leaves i alone, so case carries what the name looks like.
 */
function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD')).normalize('NFD').replace(COMBINING_MARKS, '').replace(/[_.-]/g, '');
}

/**
 * What a name looks like written in lower case: what the store keeps (unique) for
 * each account, so "ALICE" and "alice" share it, and "аlice" (Cyrillic а),
 * "a1ice" or "alicé" cannot pose as "alice".
 */
export function nameSkeleton(name: string): string {
  return skeleton(name.toLowerCase());
}

/**
 * What a name looks like as typed, in lower case and in upper case. Two names are
 * look-alikes when any of one's skeletons is one of the other's: a relation that
 * does not depend on which came first ("wilIiam" then "william", or the other
 * way). "ALlCE" looks like "alice" written in capitals; "bill" and "biii" stay
 * apart, as BILL and BIII do.
 */
export function lookalikeSkeletons(name: string): string[] {
  return [...new Set([nameSkeleton(name), skeleton(name), skeleton(name.toUpperCase())])];
}

/**
 * Whether two room names look alike: one look-alike skeleton in common once spaces and invisible
 * characters are dropped, so "Team Room", "team room", "Teаm Room" (Cyrillic а) and "Team\u200BRoom"
 * are one name to whoever reads a list of rooms.
 */
export function roomNamesLookAlike(a: string, b: string): boolean {
  const bare = (name: string): string => name.replace(/[\p{Z}\p{Cf}\s]/gu, '');
  const skeletons = new Set(lookalikeSkeletons(bare(a)));
  return lookalikeSkeletons(bare(b)).some((candidate) => skeletons.has(candidate));
}

const BYTE_UNITS = ['KB', 'MB', 'GB', 'TB'];

/** A size for people, in units of 1024: "512 bytes", "2.5 MB", "100 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${BYTE_UNITS[unit]}`;
}
