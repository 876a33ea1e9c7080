import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import { app } from '../app-context.js';
import { ErrorAlert } from './ErrorAlert.js';

const MAX_ROWS = 6;

interface ComposerProps {
  /** Null while the conversation's recipient is not known yet. */
  target: Target | null;
  /** The other side declined: nothing can be sent. */
  blocked: boolean;
}

export function Composer({ target, blocked }: ComposerProps) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const disabled = target === null || blocked;

  const send = async () => {
    if (target === null || blocked || text.trim() === '') return;
    const sending = text;
    // Cleared at once: the message shows as queued right away; put back if the app refuses it.
    setText('');
    const result = await app().api.send(target, sending);
    if (result.ok) {
      setError(null);
    } else {
      setError(result.error);
      setText((current) => (current === '' ? sending : current));
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter while an input method is composing picks a candidate; it must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <ErrorAlert error={error} />
      <div className="composer-row">
        <textarea
          aria-label={t('composer.label')}
          placeholder={t('composer.placeholder')}
          value={text}
          rows={Math.min(MAX_ROWS, text.split('\n').length)}
          disabled={disabled}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={disabled || text.trim() === ''}>
          {t('composer.send')}
        </button>
      </div>
    </form>
  );
}
