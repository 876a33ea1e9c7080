import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { useApp } from '../app-context.js';
import { type FileAbout, fileErrorText } from '../lib/file-errors.js';

/** fileErrorText in the UI language with the limits of the room this window is in. */
export function useFileErrorText(): (error: AppError, about: FileAbout) => string {
  const { t, i18n } = useTranslation();
  const limits = useApp((state) => state.session.limits);
  return (error, about) => fileErrorText(t, error, about, limits, i18n.language);
}
