/** How user names compare. No zod, no Node: the renderer imports this. */

/** Case-insensitive identity of a name: two names with the same key are the same account. */
export function nameKey(name: string): string {
  return name.normalize('NFC').replace(/İ/g, 'i').replace(/I/g, 'i').replace(/ı/g, 'i').toLowerCase();
}

/** Whether two user names denote the same account (the server compares them case-insensitively). */
export function sameName(a: string | null | undefined, b: string | null | undefined): boolean {
  return a != null && b != null && nameKey(a) === nameKey(b);
}
