import { useState } from 'react';

/** Copies text to the clipboard and remembers what was copied last (by `key`), for a "Copied" cue. */
export function useClipboard<K>(): { copied: K | null; copy: (text: string, key: K) => Promise<void> } {
  const [copied, setCopied] = useState<K | null>(null);
  const copy = async (text: string, key: K) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(key);
    } catch {
      setCopied(null);
    }
  };
  return { copied, copy };
}
