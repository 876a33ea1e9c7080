import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { errorDetail, errorText } from '../i18n/index.js';

/**
 * An API error, announced at once as one sentence (`text` when the place it shows in knows a
 * better one); the host's detail is its tooltip. Renders nothing without an error.
 */
export function ErrorAlert({ error, text }: { error: AppError | null; text?: string }) {
  const { t } = useTranslation();
  if (error === null) return null;
  return (
    <p role="alert" className="error" title={errorDetail(t, error)}>
      {text ?? errorText(t, error)}
    </p>
  );
}
