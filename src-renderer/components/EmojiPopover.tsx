import { Suspense, lazy, useEffect, useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useApp } from '../app-context.js';

// The picker and its emoji data (offline, in the package) load on first use, not with the app.
const EmojiPicker = lazy(() => import('emoji-picker-react'));

interface EmojiPopoverProps {
  /** The popover's accessible name. */
  label: string;
  onPick(emoji: string): void;
  /** Escape or a click outside; focus goes back where the caller wants it. */
  onClose(): void;
  /** Opens above its anchor (the composer) or below it (a message). */
  placement: 'above' | 'below';
}

/** The full emoji picker (emoji-picker-react: search, categories, skin tones, keyboard) in a small popover. */
export function EmojiPopover({ label, onPick, onClose, placement }: EmojiPopoverProps) {
  const { t } = useTranslation();
  const theme = useApp((state) => state.settings?.theme ?? 'system');
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const outside = (event: PointerEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) onClose();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [onClose]);

  const onKeyDown = (event: KeyboardEvent) => {
    // The picker keeps an Escape that closes its own menus or clears the search.
    if (event.key === 'Escape' && !event.defaultPrevented) {
      event.stopPropagation();
      onClose();
    }
  };

  return (
    <div ref={ref} role="dialog" aria-label={label} className={`emoji-popover ${placement}`} onKeyDown={onKeyDown}>
      <Suspense fallback={<p className="muted emoji-loading">{t('emoji.loading')}</p>}>
        <EmojiPicker
          colorScheme={theme === 'system' ? 'auto' : theme}
          width={320}
          height={380}
          previewConfig={{ showPreview: false }}
          lazyLoadEmojis
          labels={{
            searchPlaceholder: t('emoji.search'),
            searchLabel: t('emoji.search'),
            searchClear: t('emoji.clear'),
            searchResultsNone: t('emoji.noResults'),
            searchResultsOne: t('emoji.oneResult'),
            searchResultsMany: t('emoji.manyResults'),
            categoryNavigation: t('emoji.categories'),
            loading: t('emoji.loading'),
          }}
          onEmojiClick={(data) => onPick(data.emoji)}
        />
      </Suspense>
    </div>
  );
}
