/**
 * Whom a text mentions, by one rule for the host (store/mentions.ts, plain messages), for each device
 * (core/e2ee-messaging.ts, end-to-end encrypted ones, which the host cannot read) and for what the window
 * highlights (src-renderer/lib/rich-text.ts): each `@name` as written,
 * then without trailing dots, dashes or underscores ("@bob." ends a sentence), at most MAX_MENTION_TRIES
 * look-ups in all. A candidate that names a user ends its walk; the user counts if they can read the
 * conversation (PROTOCOL §7.1).
 */

/** `@name`: a name's characters (letters, digits, marks, _ . -) after an @ that does not continue a word. */
const MENTION = /(?<![\p{L}\p{N}\p{M}_.-])@([\p{L}\p{N}\p{M}_.-]+)/gu;
const MAX_MENTION_TRIES = 50;

/**
 * The names the walk may try for each `@name`, in order. Each `@name` costs the walk at least
 * one look-up, so it reaches at most MAX_MENTION_TRIES of them, and as many names of each. Every
 * name in them is what a host fetches before calling `mentioned` with them.
 */
export function mentionChains(text: string): string[][] {
  const chains: string[][] = [];
  for (const { chain } of mentionSites(text)) {
    if (chains.length === MAX_MENTION_TRIES) break;
    chains.push(chain);
  }
  return chains;
}

/** Each `@name` of the text, in order: the index of its `@`, and the names its walk may try, longest first. */
export function* mentionSites(text: string): Generator<{ index: number; chain: string[] }> {
  if (!text.includes('@')) return;
  for (const match of text.matchAll(MENTION)) {
    const chain: string[] = [];
    let candidate = match[1]!;
    while (candidate !== '' && chain.length < MAX_MENTION_TRIES) {
      chain.push(candidate);
      const shorter = candidate.replace(/[._-]$/, '');
      if (shorter === candidate) break;
      candidate = shorter;
    }
    yield { index: match.index, chain };
  }
}

/**
 * The users a text mentions (its `mentionChains`), each once, in the order first mentioned. `find` names
 * the user a candidate denotes (by nameKey), if any; `canRead` says whether that user may read the conversation.
 */
export function mentioned<User>(chains: readonly string[][], find: (candidate: string) => User | undefined, canRead: (user: User) => boolean): User[] {
  const found = new Set<User>();
  let tries = 0;
  for (const chain of chains) {
    for (const candidate of chain) {
      if (tries === MAX_MENTION_TRIES) break;
      tries += 1;
      const user = find(candidate);
      if (user !== undefined) {
        if (canRead(user)) found.add(user);
        break;
      }
    }
  }
  return [...found];
}
