import { useState, type ReactNode } from 'react';
import { ConfirmDialog } from './ConfirmDialog.js';

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
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className={className} aria-label={label} onClick={() => setOpen(true)}>
        {children}
      </button>
      <ConfirmDialog
        open={open}
        question={question}
        detail={detail}
        confirm={confirm}
        onConfirm={() => {
          setOpen(false);
          onConfirm();
        }}
        onCancel={() => setOpen(false)}
      />
    </>
  );
}
