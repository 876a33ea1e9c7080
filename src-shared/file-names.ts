/**
 * File names, stated once. The rule for a name the host keeps (docs/PROTOCOL.md §18.2): the host refuses a
 * name that breaks it, and the app fits a name to it before uploading, so that a file named on disk with a
 * control or bidi character (as in a disguised "photo‮gpj.exe") is sent rather than refused. And the name a
 * received file is saved under, which every system the app runs on (Linux, macOS, Windows) can create: the
 * host's rule still lets through names Windows cannot have, and a prefix can take a name past 255 bytes.
 */
import { LIMITS } from './protocol/limits.js';

const SEPARATOR = /[/\\]/;
/** Path separators, control, format (invisible, bidi), line and paragraph separator and lone surrogate characters. */
const FORBIDDEN = /[/\\\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
/** What the host refuses, and what Windows reserves besides. */
const UNSAVABLE = /[<>:"|?*/\\\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
/** The names Windows keeps for devices, whatever extension follows. */
const DEVICE = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]) *(\.|$)/i;

/** A saved file's name in UTF-8 bytes: the systems' 255, less the ".part" a download is written to first. */
export const SAVED_NAME_BYTES = LIMITS.maxFileNameBytes - '.part'.length;

const utf8 = new TextEncoder();
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function bytesOf(text: string): number {
  return utf8.encode(text).length;
}

/** A name that names nothing: blank, "." or "..". */
function isNoName(name: string): boolean {
  return name.trim() === '' || name === '.' || name === '..';
}

/** Why the host refuses this name (already NFC), or null when it keeps it. */
export function fileNameProblem(name: string): string | null {
  if (bytesOf(name) > LIMITS.maxFileNameBytes) return `a file name has at most ${LIMITS.maxFileNameBytes} bytes in UTF-8`;
  if (SEPARATOR.test(name)) return 'a file name cannot contain / or \\';
  // Separators are ruled out above, so what FORBIDDEN still finds is invisible or breaks a line.
  if (FORBIDDEN.test(name)) return 'a file name cannot contain control, line separator or invisible characters';
  if (isNoName(name)) return 'a file name cannot be empty, "." or ".."';
  return null;
}

/**
 * The name as the host keeps it: NFC, each forbidden character replaced by "_", shortened at the end of
 * its stem so that its extension stays, and "file" for a name with nothing left.
 */
export function fitFileName(raw: string): string {
  const name = raw.normalize('NFC').replace(new RegExp(FORBIDDEN, 'gu'), '_');
  return isNoName(name) ? 'file' : shorten(name, LIMITS.maxFileNameBytes);
}

/**
 * The name to save a received file under (`name` as sent, with any prefix that makes it unique): each
 * character a system cannot have replaced by "_", no trailing dots or spaces (Windows drops them), at most
 * `maxBytes` of UTF-8 with its extension kept, "_" before a Windows device name, "file" when nothing is left.
 */
export function savedFileName(name: string, maxBytes = SAVED_NAME_BYTES): string {
  const saved = withoutTrailingDotsAndSpaces(shorten(withoutTrailingDotsAndSpaces(name.normalize('NFC').replace(UNSAVABLE, '_')), maxBytes));
  if (saved === '') return 'file';
  return DEVICE.test(saved) ? savedFileName(`_${saved}`, maxBytes) : saved;
}

/** At most `maxBytes` of UTF-8, cut at the end of the stem between two characters, keeping an extension (not a long one). */
function shorten(name: string, maxBytes: number): string {
  if (bytesOf(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && bytesOf(name.slice(dot)) <= maxBytes / 2 ? name.slice(dot) : '';
  let budget = maxBytes - bytesOf(extension);
  let stem = '';
  // By grapheme, so that an emoji of several code points or a letter with its accents stays whole.
  for (const { segment } of graphemes.segment(name.slice(0, name.length - extension.length))) {
    budget -= bytesOf(segment);
    if (budget < 0) break;
    stem += segment;
  }
  return stem + extension;
}

/** A loop, not /[. ]+$/: that regular expression takes quadratic time on a long run of dots. */
function withoutTrailingDotsAndSpaces(name: string): string {
  let end = name.length;
  while (end > 0 && (name[end - 1] === '.' || name[end - 1] === ' ')) end--;
  return name.slice(0, end);
}
