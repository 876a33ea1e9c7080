import { foldForSearch } from '../../src-shared/fold.js';
import { sameName } from '../../src-shared/protocol/names.js';

/** Who a typed part of a name stands for: one person, several, or nobody. */
export type PersonMatch = { name: string } | { several: string[] } | { none: true };

/**
 * The person search filters by, from what was typed: the host needs an exact name, people type a
 * part of one ("ayl"), in any case (Turkish İ/ı as one letter, as search folds). An exact name wins;
 * else the one name that starts with it; else the one that contains it.
 */
export function matchPerson(names: string[], typed: string): PersonMatch {
  const exact = names.find((name) => sameName(name, typed));
  if (exact !== undefined) return { name: exact };
  const needle = foldForSearch(typed.trim());
  const folded = names.map((name) => ({ name, folded: foldForSearch(name) }));
  for (const matches of [folded.filter((entry) => entry.folded.startsWith(needle)), folded.filter((entry) => entry.folded.includes(needle))]) {
    if (matches.length === 1) return { name: matches[0]!.name };
    if (matches.length > 1) return { several: matches.map((entry) => entry.name).sort((a, b) => a.localeCompare(b)) };
  }
  return { none: true };
}
