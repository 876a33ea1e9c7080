import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { formatMoment } from '../lib/time.js';
import { ErrorAlert } from './ErrorAlert.js';

/** The counter shows once this few characters are left, before the limit is reached. */
const COUNTER_FROM = 500;

interface ComposerProps {
  /** Null while the conversation's recipient is not known yet. */
  target: Target | null;
  /** The other side declined: nothing can be sent. */
  blocked: boolean;
}

export function Composer({ target, blocked }: ComposerProps) {
  const { t, i18n } = useTranslation();
  const [text, setText] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  // The host tells the app when a mute begins and ends; the composer follows without a timer of its own.
  const muted = useApp((state) => state.session.muted);
  const counterId = useId();
  const mutedId = useId();
  const disabled = target === null || blocked || muted !== undefined;
  // The host counts UTF-16 code units, as String.length does.
  const left = LIMITS.maxTextLength - text.length;
  const tooLong = left < 0;

  const send = async () => {
    if (disabled || text.trim() === '' || tooLong) return;
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
      {muted !== undefined && (
        <p id={mutedId} className="composer-muted" role="status">
          {muted.until === null
            ? t('composer.mutedByHost')
            : t('composer.mutedUntil', { time: formatMoment(muted.until, Date.now(), i18n.language) })}
        </p>
      )}
      <div className="composer-row">
        {/* Grows with its text, wrapped lines included, up to a cap (CSS field-sizing). */}
        <textarea
          aria-label={t('composer.label')}
          aria-describedby={muted !== undefined ? mutedId : left <= COUNTER_FROM ? counterId : undefined}
          aria-invalid={tooLong}
          placeholder={muted === undefined ? t('composer.placeholder') : undefined}
          value={text}
          rows={1}
          disabled={disabled}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={disabled || text.trim() === '' || tooLong}>
          {t('composer.send')}
        </button>
      </div>
      {left <= COUNTER_FROM && (
        <p id={counterId} className={tooLong ? 'composer-counter error' : 'composer-counter'} aria-live="polite">
          {tooLong
            ? t('composer.tooLong', { count: -left, max: LIMITS.maxTextLength })
            : t('composer.charactersLeft', { count: left })}
        </p>
      )}
    </form>
  );
}
