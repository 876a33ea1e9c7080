import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { errorText } from '../i18n/index.js';

/** An API error, announced at once. Renders nothing without one. */
export function ErrorAlert({ error }: { error: AppError | null }) {
  const { t } = useTranslation();
  if (error === null) return null;
  return (
    <p role="alert" className="error">
      {errorText(t, error)}
    </p>
  );
}
