/** Finding people by part of their name, as the people picker offers them. */
import { foldForSearch } from '../../src-shared/fold.js';
import type { UserInfo } from '../../src-shared/protocol/objects.js';

/** People with their names folded once (case, Turkish İ/ı and accents ignored), for matching on every key. */
export type PeopleIndex = { user: UserInfo; folded: string }[];

export function indexPeople(users: readonly UserInfo[]): PeopleIndex {
  return users.map((user) => ({ user, folded: foldForSearch(user.name) }));
}

/**
 * Those whose name holds the query, names that begin with it first, otherwise in the index's order;
 * at most `limit` of them, and how many more there are (a room may have thousands).
 */
export function matchPeople(index: PeopleIndex, query: string, limit: number): { shown: UserInfo[]; more: number } {
  const wanted = foldForSearch(query.trim());
  const starts: UserInfo[] = [];
  const inside: UserInfo[] = [];
  for (const { user, folded } of index) {
    const at = folded.indexOf(wanted);
    if (at === 0) starts.push(user);
    else if (at > 0) inside.push(user);
  }
  const all = [...starts, ...inside];
  return { shown: all.slice(0, limit), more: Math.max(0, all.length - limit) };
}
