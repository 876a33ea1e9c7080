import { useTranslation } from 'react-i18next';
import { Dialog } from './Dialog.js';

export interface ConfirmDialogProps {
  open: boolean;
  /** The dialog's title, a question ("Remove bob from Team?"). */
  question: string;
  /** What happens, in a sentence. */
  detail: string;
  /** The confirming button ("Remove"). */
  confirm: string;
  onConfirm(): void;
  /** Cancel, Escape or the close button. */
  onCancel(): void;
}

/** The question before a destructive action; Cancel has the focus, so Enter alone changes nothing. */
export function ConfirmDialog({ open, question, detail, confirm, onConfirm, onCancel }: ConfirmDialogProps) {
  const { t } = useTranslation();
  return (
    <Dialog title={question} open={open} onClose={onCancel} role="alertdialog">
      <p className="dialog-text">{detail}</p>
      <div className="dialog-actions">
        <button type="button" data-autofocus onClick={onCancel}>
          {t('layout.cancel')}
        </button>
        <button type="button" className="danger-solid" onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
