/**
 * The same rule as nameKey in src-shared/text.ts, repeated here because importing
 * that module would pull its look-alike tables (about 100 kB) into the renderer.
 */
export function nameKey(name: string): string {
  return name.normalize('NFC').replace(/İ/g, 'i').replace(/I/g, 'i').replace(/ı/g, 'i').toLowerCase();
}

/** Whether two user names denote the same account (the server compares them case-insensitively). */
export function sameName(a: string | null | undefined, b: string | null | undefined): boolean {
  return a != null && b != null && nameKey(a) === nameKey(b);
}
