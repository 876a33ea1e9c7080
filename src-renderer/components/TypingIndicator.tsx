import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { useApp } from '../app-context.js';

/** At most this many typists are named (the room can have many); past them it says "several people". */
const NAMED = 3;

/** "bob is typing…" under the messages; gone when their message comes or their frames stop. */
export function TypingIndicator({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const entries = useApp((state) => state.typing[conv]);
  const expireTyping = useApp((state) => state.expireTyping);
  const typists = Object.values(entries ?? {});

  const nextExpiry = Math.min(...typists.map((entry) => entry.until));
  useEffect(() => {
    if (!Number.isFinite(nextExpiry)) return;
    const timer = setTimeout(() => expireTyping(Date.now()), Math.max(0, nextExpiry - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [nextExpiry, expireTyping]);

  const names = typists.map((entry) => entry.user).sort();
  const text =
    names.length === 0
      ? ''
      : names.length > NAMED
        ? t('typing.many')
        : names.length === 1
          ? t('typing.one', { name: names[0] })
          : names.length === 2
            ? t('typing.two', { first: names[0], second: names[1] })
            : t('typing.three', { first: names[0], second: names[1], third: names[2] });
  // Always in the page, so screen readers hear it change (a polite live region).
  return (
    <p className="typing-indicator" aria-live="polite">
      {text}
    </p>
  );
}
