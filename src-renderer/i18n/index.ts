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

/** An API error for people: a sentence in the UI language, then the server's own detail. */
export function errorText(t: TFunction, error: AppError): string {
  return hasText(error.code) ? `${t(`errors.${error.code}`)} ${error.message}` : error.message;
}
