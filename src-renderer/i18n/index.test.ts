import { describe, expect, it } from 'vitest';
import { detectLanguage, errorText, i18n, initI18n } from './index.js';

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

  it('puts a sentence for known codes before the server detail', () => {
    const text = errorText(i18n.t, { code: 'WRONG_PASSWORD', message: 'wrong password for alice' });
    expect(text).toBe('Wrong password. wrong password for alice');
  });

  it('shows the message alone for codes without a sentence', () => {
    expect(errorText(i18n.t, { code: 'SOMETHING_NEW', message: 'the detail' })).toBe('the detail');
  });

  it('translates the sentence', async () => {
    await i18n.changeLanguage('tr');
    expect(errorText(i18n.t, { code: 'NAME_TAKEN', message: 'x' })).toBe('Bu ad alınmış. x');
    await i18n.changeLanguage('en');
  });
});
