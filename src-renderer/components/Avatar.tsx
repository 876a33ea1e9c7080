import { nameKey } from '../../src-shared/protocol/names.js';

/** Up to two letters: the first of the first two words, or the first two of a single word. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0]!, words[1]!].map((word) => [...word][0]) : [...(words[0] ?? '?')].slice(0, 2);
  return letters.join('').toLocaleUpperCase();
}

/** A hue from the name (case-insensitively), so a person keeps one colour everywhere. */
export function avatarHue(name: string): number {
  let hash = 0;
  for (const char of nameKey(name)) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return hash % 360;
}

/** Decorative: the name is always written next to it. */
export function Avatar({ name, size = 36, online }: { name: string; size?: number; online?: boolean }) {
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ '--avatar-hue': avatarHue(name), '--avatar-size': `${size}px` } as React.CSSProperties}
    >
      {initials(name)}
      {online !== undefined && <span className="presence-dot" data-online={online} />}
    </span>
  );
}
