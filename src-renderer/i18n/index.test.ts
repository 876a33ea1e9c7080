import { describe, expect, it } from 'vitest';
import { detectLanguage, errorDetail, errorText, i18n, initI18n } from './index.js';

describe('UI language', () => {
  it('follows a Turkish system and falls back to English for others', () => {
    expect(detectLanguage('system', 'tr-TR')).toBe('tr');
    expect(detectLanguage('system', 'en-US')).toBe('en');
    expect(detectLanguage(undefined, 'de-DE')).toBe('en');
  });

  it('prefers the language chosen in the settings', () => {
    expect(detectLanguage('en', 'tr-TR')).toBe('en');
    expect(detectLanguage('tr', 'en-US')).toBe('tr');
  });
});

describe('error text', () => {
  initI18n('en');

  it('gives one sentence for known codes and keeps the server detail for a tooltip', () => {
    const error = { code: 'UNKNOWN_USER', message: 'No user named dave' };
    expect(errorText(i18n.t, error)).toBe('There is no such user.');
    expect(errorDetail(i18n.t, error)).toBe('No user named dave');
  });

  it('shows the message alone for codes without a sentence, with no tooltip repeating it', () => {
    expect(errorText(i18n.t, { code: 'SOMETHING_NEW', message: 'the detail' })).toBe('the detail');
    expect(errorDetail(i18n.t, { code: 'SOMETHING_NEW', message: 'the detail' })).toBeUndefined();
  });

  it('never mixes languages: the Turkish sentence comes without the English detail', async () => {
    await i18n.changeLanguage('tr');
    expect(errorText(i18n.t, { code: 'UNKNOWN_USER', message: 'No user named dave' })).toBe('Böyle bir kullanıcı yok.');
    await i18n.changeLanguage('en');
  });
});
