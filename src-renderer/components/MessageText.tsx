import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { richText } from '../lib/rich-text.js';

/**
 * A message's text with its links and mentions. Links open in a new tab of the browser shell
 * without telling the page who opened it (noopener, noreferrer); the desktop app hands them
 * to the system browser (src-main/electron/windows.ts). Nothing is fetched for a preview.
 */
export function MessageText({ text, people, me }: { text: string; people: readonly string[]; me: string | null }) {
  const { t } = useTranslation();
  const parts = useMemo(() => richText(text, people, me), [text, people, me]);
  return parts.map((part, index) => {
    switch (part.kind) {
      case 'text':
        return part.text;
      case 'link':
        return (
          <a key={index} href={part.href} target="_blank" rel="noopener noreferrer" title={part.href}>
            {part.text}
          </a>
        );
      case 'mention':
        return (
          <span key={index} className={part.me ? 'mention mention-me' : 'mention'} title={part.me ? t('mention.mentionsYou') : undefined}>
            {part.text}
          </span>
        );
    }
  });
}
