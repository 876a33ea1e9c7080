import { useEffect } from 'react';
import { useApp } from '../app-context.js';
import { detectLanguage, i18n } from '../i18n/index.js';

/** Applies the theme and language settings; without them the system's choices hold. */
export function useAppearance(): void {
  const theme = useApp((state) => state.settings?.theme ?? 'system');
  const languageSetting = useApp((state) => state.settings?.language);

  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'system') delete root.dataset['theme'];
    else root.dataset['theme'] = theme;
  }, [theme]);

  useEffect(() => {
    const language = detectLanguage(languageSetting, navigator.language);
    document.documentElement.lang = language;
    if (i18n.language !== language) void i18n.changeLanguage(language);
  }, [languageSetting]);
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title;
  }, [title]);
}
