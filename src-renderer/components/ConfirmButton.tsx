import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from './Dialog.js';

interface ConfirmButtonProps {
  /** The button's visible text. */
  children: ReactNode;
  /** Its accessible name when the text alone is ambiguous ("Kick bob" for "Kick"). */
  label?: string;
  className?: string;
  /** The dialog's title, a question ("Remove bob from Team?"). */
  question: string;
  /** What happens, in a sentence. */
  detail: string;
  /** The dialog's confirming button ("Remove"). */
  confirm: string;
  onConfirm(): void;
}

/** A button for a destructive action that asks first, in an accessible dialog. */
export function ConfirmButton({ children, label, className = 'danger', question, detail, confirm, onConfirm }: ConfirmButtonProps) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className={className} aria-label={label} onClick={() => setOpen(true)}>
        {children}
      </button>
      <Dialog title={question} open={open} onClose={() => setOpen(false)} role="alertdialog">
        <p className="dialog-text">{detail}</p>
        <div className="dialog-actions">
          <button type="button" data-autofocus onClick={() => setOpen(false)}>
            {t('layout.cancel')}
          </button>
          <button
            type="button"
            className="danger-solid"
            onClick={() => {
              setOpen(false);
              onConfirm();
            }}
          >
            {confirm}
          </button>
        </div>
      </Dialog>
    </>
  );
}
