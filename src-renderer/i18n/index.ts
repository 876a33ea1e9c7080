import i18next, { type TFunction } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { AppError, Language, Settings } from '../../src-shared/api.js';
import { en } from './en.js';
import { tr } from './tr.js';

declare module 'i18next' {
  interface CustomTypeOptions {
    resources: { translation: typeof en };
  }
}

export const i18n = i18next;

/** The UI language: the setting when one is chosen, else the system's when we speak it, else English. */
export function detectLanguage(setting: Settings['language'] | undefined, systemLanguage: string): Language {
  if (setting === 'en' || setting === 'tr') return setting;
  return systemLanguage.toLowerCase().startsWith('tr') ? 'tr' : 'en';
}

export function initI18n(language: Language): void {
  void i18next.use(initReactI18next).init({
    resources: { en: { translation: en }, tr: { translation: tr } },
    lng: language,
    fallbackLng: 'en',
    // React escapes text itself.
    interpolation: { escapeValue: false },
    initAsync: false,
    showSupportNotice: false,
  });
}

type ErrorCodeWithText = keyof typeof en.errors;

function hasText(code: string): code is ErrorCodeWithText {
  return Object.hasOwn(en.errors, code);
}

/**
 * An API error for people: one sentence in the UI language. The server's own detail is in
 * English and often says the same again, so it is only shown for codes without a sentence
 * (callers put it in a tooltip: errorDetail).
 */
export function errorText(t: TFunction, error: AppError): string {
  return hasText(error.code) ? t(`errors.${error.code}`) : error.message;
}

/** The detail behind errorText, when it adds something (for a tooltip), else undefined. */
export function errorDetail(t: TFunction, error: AppError): string | undefined {
  return errorText(t, error) === error.message ? undefined : error.message;
}
