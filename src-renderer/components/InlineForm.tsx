import { useState, type FormEvent } from 'react';
import type { AppError, Result } from '../../src-shared/api.js';
import { ErrorAlert } from './ErrorAlert.js';

interface InlineFormProps {
  /** The form's accessible name. */
  label: string;
  fieldLabel: string;
  buttonLabel: string;
  /** Runs the action; the field is cleared when it succeeds. */
  onSubmit(value: string): Promise<Result<unknown>>;
}

/** One text field and one button, e.g. "User name" + "Start chat", with the action's error below. */
export function InlineForm({ label, fieldLabel, buttonLabel, onSubmit }: InlineFormProps) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (trimmed === '' || busy) return;
    setBusy(true);
    const result = await onSubmit(trimmed);
    setBusy(false);
    setError(result.ok ? null : result.error);
    if (result.ok) setValue('');
  };

  return (
    <form className="inline-form" aria-label={label} onSubmit={(event) => void submit(event)}>
      <label>
        <span className="field-label">{fieldLabel}</span>
        <input
          value={value}
          onChange={(event) => {
            setValue(event.target.value);
            // The error was about what was sent; once the text changes it no longer applies.
            setError(null);
          }}
        />
      </label>
      <button type="submit" disabled={busy}>
        {buttonLabel}
      </button>
      <ErrorAlert error={error} />
    </form>
  );
}
