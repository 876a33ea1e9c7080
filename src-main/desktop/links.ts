/**
 * Which addresses a link in a message may open outside the app. The windows never navigate
 * away from the app's page; a link they are asked to follow goes to the system's browser or
 * mail program, and only for these schemes (file:, javascript:, custom app schemes never).
 */
const EXTERNAL_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** The address to hand to the system, or null when it must not be opened. */
export function externalLink(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!EXTERNAL_SCHEMES.has(parsed.protocol)) return null;
  // A web address names a host; "http:foo" parses but opens nothing sensible.
  if (parsed.protocol !== 'mailto:' && parsed.hostname === '') return null;
  return parsed.href;
}
