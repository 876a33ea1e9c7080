/**
 * A message's text as the row shows it: plain runs, links and @mentions. Nothing here
 * produces markup; the component renders each part as a text node or an element.
 */
import { LinkifyIt } from 'linkify-it';
import { mentionSites } from '../../src-shared/mentions.js';
import { nameKey } from '../../src-shared/protocol/names.js';

export type RichPart =
  | { kind: 'text'; text: string }
  /** `href` is http:, https: or mailto:, the only schemes a link may open. */
  | { kind: 'link'; text: string; href: string }
  /** `name` as written after the "@"; `me`: it names you. */
  | { kind: 'mention'; text: string; name: string; me: boolean };

// Web and mail addresses only: no ftp: and no protocol-relative "//host" links.
const linkify = new LinkifyIt().add('ftp:', null).add('//', null).set({ fuzzyLink: true });

const LINK_SCHEMES = /^(https?|mailto):/i;

/**
 * Splits `text` into parts. `people` are the names a mention may refer to; an "@word" that
 * is nobody's name stays text. A name ending the sentence ("@bob.") keeps its dot outside.
 */
export function richText(text: string, people: readonly string[], me: string | null): RichPart[] {
  const known = new Map(people.map((name) => [nameKey(name), name]));
  const parts: RichPart[] = [];
  let at = 0;
  for (const link of linkify.match(text) ?? []) {
    if (!LINK_SCHEMES.test(link.url) || !looksLikeLink(link)) continue;
    parts.push(...mentionParts(text.slice(at, link.index), known, me));
    parts.push({ kind: 'link', text: link.raw, href: link.url });
    at = link.lastIndex;
  }
  parts.push(...mentionParts(text.slice(at), known, me));
  return parts;
}

/**
 * Addresses without a scheme only when they start with "www.": "readme.md" or "notes.at" are
 * file and word names far more often than hosts (.md and .at are country domains).
 */
function looksLikeLink(link: { schema: string; raw: string; url: string }): boolean {
  return link.schema !== '' || link.url.startsWith('mailto:') || /^www\./i.test(link.raw);
}

function mentionParts(text: string, known: Map<string, string>, me: string | null): RichPart[] {
  const parts: RichPart[] = [];
  let at = 0;
  // The host's rule (PROTOCOL §17.5): the same `@name`s, and the first of each one's walk that is someone's.
  for (const { index, chain } of mentionSites(text)) {
    const name = chain.find((candidate) => known.has(nameKey(candidate)));
    if (name === undefined) continue;
    if (index > at) parts.push({ kind: 'text', text: text.slice(at, index) });
    parts.push({ kind: 'mention', text: `@${name}`, name, me: me !== null && nameKey(name) === nameKey(me) });
    at = index + 1 + name.length;
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
  return parts;
}

/** The "@name" being typed just before the caret, if any: where it starts and what is typed so far. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?<![\p{L}\p{N}\p{M}_.@-])@([\p{L}\p{N}\p{M}_.-]*)$/u.exec(text.slice(0, caret));
  return match ? { start: match.index, query: match[1]! } : null;
}
