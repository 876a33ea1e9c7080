import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Icon } from './Icons.js';

/**
 * A panel at the side of the conversation, opened when needed: a named complementary landmark
 * with a close button. Escape closes it; focus moves into it on open and back to the opener on close.
 */
export function Drawer({ label, title, onClose, children }: { label: string; title: string; onClose(): void; children: ReactNode }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLElement>(null);
  const titleId = useId();

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.focus();
    return () => {
      if (opener?.isConnected && (document.activeElement === document.body || ref.current?.contains(document.activeElement))) {
        opener.focus();
      }
    };
  }, []);

  return (
    <aside
      ref={ref}
      className="drawer"
      aria-label={label}
      tabIndex={-1}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="drawer-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label={t('layout.closePanel', { name: label })} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="drawer-body">{children}</div>
    </aside>
  );
}
