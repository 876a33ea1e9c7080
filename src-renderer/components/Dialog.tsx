import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Icon } from './Icons.js';

interface DialogProps {
  title: string;
  open: boolean;
  onClose(): void;
  children: ReactNode;
  /** 'alertdialog' for a confirmation that interrupts. */
  role?: 'dialog' | 'alertdialog';
}

/**
 * A modal dialog on the platform's <dialog>: showModal() makes the rest of the page inert
 * (so focus stays inside) and Escape cancels it; focus goes back to where it was on close.
 * The element marked `data-autofocus` takes focus on open (else the first focusable one).
 */
export function Dialog({ title, open, onClose, children, role = 'dialog' }: DialogProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!open || dialog === null) return;
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    // React's autoFocus fires before the dialog is shown, so the dialog marks its first field itself.
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => {
      // Unless what the dialog did put the focus elsewhere (a chat it opened focuses its composer).
      const focusHere = dialog.contains(document.activeElement) || document.activeElement === document.body;
      dialog.close();
      if (focusHere) returnTo?.focus();
    };
  }, [open]);

  if (!open) return null;
  return (
    <dialog
      ref={ref}
      role={role === 'alertdialog' ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      aria-modal="true"
      className="dialog"
      // Escape closes this dialog only, not a drawer it was opened from.
      onKeyDown={(event) => {
        if (event.key === 'Escape') event.stopPropagation();
      }}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label={t('layout.close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      {children}
    </dialog>
  );
}
