/**
 * The rule for a file name the host keeps (docs/PROTOCOL.md §18.2), stated once: the host refuses a name
 * that breaks it, and the app fits a name to it before uploading, so that a file named on disk with a
 * control or bidi character (as in a disguised "photo‮gpj.exe") is sent rather than refused.
 */
import { LIMITS } from './protocol/limits.js';

const SEPARATOR = /[/\\]/;
/** Path separators, control, format (invisible, bidi) and lone surrogate characters. */
const FORBIDDEN = /[/\\\p{Cc}\p{Cf}\p{Cs}]/u;

/** A name that names nothing: blank, "." or "..". */
function isNoName(name: string): boolean {
  return name.trim() === '' || name === '.' || name === '..';
}

/** Why the host refuses this name (already NFC), or null when it keeps it. */
export function fileNameProblem(name: string): string | null {
  if ([...name].length > LIMITS.maxFileNameLength) return `a file name has at most ${LIMITS.maxFileNameLength} characters`;
  if (SEPARATOR.test(name)) return 'a file name cannot contain / or \\';
  // Separators are ruled out above, so what FORBIDDEN still finds is invisible.
  if (FORBIDDEN.test(name)) return 'a file name cannot contain control or invisible characters';
  if (isNoName(name)) return 'a file name cannot be empty, "." or ".."';
  return null;
}

/**
 * The name as the host keeps it: NFC, each forbidden character replaced by "_", shortened at the end of
 * its stem so that its extension stays, and "file" for a name with nothing left.
 */
export function fitFileName(raw: string): string {
  const name = raw.normalize('NFC').replace(new RegExp(FORBIDDEN, 'gu'), '_');
  if (isNoName(name)) return 'file';
  const chars = [...name];
  if (chars.length <= LIMITS.maxFileNameLength) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? [...name.slice(dot)] : [];
  const keep = extension.length < LIMITS.maxFileNameLength / 2 ? extension : [];
  return [...chars.slice(0, LIMITS.maxFileNameLength - keep.length), ...keep].join('');
}
