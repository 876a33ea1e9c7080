/**
 * Exporting a conversation (issue 35 item 5): every message the app can page through with `history`, so
 * an end-to-end encrypted conversation comes from the device's own store and a plain one from the host,
 * as HTML to read (one self-contained file: no script, no request, every text escaped) or as JSON to
 * process (the shape is docs/EXPORT.md's; `version` changes when it does).
 */
import type { Result } from '../../src-shared/api.js';
import { isE2ee } from '../../src-shared/e2ee-app.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage, HistoryPage } from '../../src-shared/protocol/objects.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { ok } from './errors.js';

export type ExportFormat = 'html' | 'json';

export const EXPORT_VERSION = 1;

export interface ConversationExport {
  fileName: string;
  mimeType: string;
  content: string;
}

/** What the export is of, besides its messages. */
export interface ExportHeading {
  conv: ConversationKey;
  /** The conversation as the app names it: the room's name, the group's, the other person's. */
  title: string;
  exportedBy: string;
  exportedAt: number;
  /** Whether the conversation is end-to-end encrypted now (its older messages may not have been). */
  endToEnd: boolean;
}

/** Every message, oldest first, paged backwards through `history` (the app's own call, so its sources are the app's). */
export async function allMessages(history: (before: number | undefined, limit: number) => Promise<Result<HistoryPage>>): Promise<Result<ChatMessage[]>> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await history(before, LIMITS.maxPageSize);
    if (!page.ok) return page;
    pages.unshift(page.value.messages);
    const oldest = page.value.messages[0];
    if (!page.value.hasMore || oldest === undefined) break;
    before = oldest.id;
  }
  return ok(pages.flat());
}

export function exportConversation(heading: ExportHeading, messages: ChatMessage[], format: ExportFormat): ConversationExport {
  const base = `${safeFileName(heading.title)}-${new Date(heading.exportedAt).toISOString().slice(0, 10)}`;
  if (format === 'json') {
    const document = { format: 'lanchat-conversation', version: EXPORT_VERSION, ...heading, messages };
    return { fileName: `${base}.json`, mimeType: 'application/json', content: `${JSON.stringify(document, null, 2)}\n` };
  }
  return { fileName: `${base}.html`, mimeType: 'text/html', content: html(heading, messages) };
}

/** A name any file system takes: no separators, no control characters, not empty. */
function safeFileName(title: string): string {
  const cleaned = title.replace(/[\p{Cc}/\\:*?"<>|]+/gu, '_').replace(/^[.\s]+|[.\s]+$/g, '').slice(0, 80);
  return cleaned === '' ? 'conversation' : cleaned;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string): string => text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);

const pad = (n: number): string => String(n).padStart(2, '0');
/** The time on the exporting computer's clock, as people read it; the attribute holds the exact instant. */
function when(ts: number): string {
  const date = new Date(ts);
  const local = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return `<time datetime="${date.toISOString()}">${local}</time>`;
}

function messageHtml(message: ChatMessage): string {
  const marks = [message.editedAt !== undefined && !message.deleted ? 'edited' : null, message.deleted ? 'deleted' : null, isE2ee(message) ? null : 'not end-to-end encrypted']
    .filter((mark) => mark !== null)
    .map((mark) => ` <span class="mark">· ${mark}</span>`)
    .join('');
  const reply = message.replyTo
    ? `<blockquote class="reply">${escape(message.replyTo.from)}: ${message.replyTo.deleted ? '<em>deleted</em>' : escape(message.replyTo.snippet)}</blockquote>`
    : '';
  const files = (message.attachments ?? []).map((file) => `<li>${escape(file.name)}</li>`).join('');
  const reactions = (message.reactions ?? []).map((reaction) => `<li>${escape(reaction.emoji)} ${escape(reaction.users.join(', '))}</li>`).join('');
  const kind = message.groupEvent !== undefined || message.callEvent !== undefined ? ' class="event"' : '';
  return [
    `<li id="m${message.id}"${kind}>`,
    `<p class="meta"><strong>${escape(message.from)}</strong> ${when(message.ts)}${marks}</p>`,
    reply,
    message.deleted ? '<p class="text deleted">This message was deleted.</p>' : `<p class="text">${escape(message.text)}</p>`,
    files === '' ? '' : `<ul class="files" aria-label="Files">${files}</ul>`,
    reactions === '' ? '' : `<ul class="reactions" aria-label="Reactions">${reactions}</ul>`,
    '</li>',
  ].join('');
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b636d; --line: #d6dbe1; --quote: #eef1f4; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #a3abb5; --line: #3a4149; --quote: #262b31; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
header p, .meta, .mark { color: var(--muted); font-size: .85rem; }
ol { list-style: none; padding: 0; margin: 1.5rem 0 0; }
li { border-top: 1px solid var(--line); padding: .6rem 0; }
li.event .text { color: var(--muted); font-style: italic; }
.meta { margin: 0 0 .2rem; }
.meta strong { color: var(--fg); }
.text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.deleted { color: var(--muted); font-style: italic; }
.reply { margin: 0 0 .3rem; padding: .2rem .6rem; border-left: 3px solid var(--line); background: var(--quote); white-space: pre-wrap; }
.files, .reactions { list-style: none; display: flex; flex-wrap: wrap; gap: .4rem; padding: 0; margin: .3rem 0 0; }
.files li, .reactions li { border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; font-size: .85rem; }
`;

function html(heading: ExportHeading, messages: ChatMessage[]): string {
  const about = [
    `Exported by ${escape(heading.exportedBy)} from LanChat on ${when(heading.exportedAt)}`,
    `${messages.length} ${messages.length === 1 ? 'message' : 'messages'}`,
    heading.endToEnd ? 'end-to-end encrypted' : 'readable by the host',
  ].join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(heading.title)} · LanChat</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escape(heading.title)}</h1><p>${about}</p></header>
<main><ol aria-label="Messages">
${messages.map(messageHtml).join('\n')}
</ol></main>
</body>
</html>
`;
}
