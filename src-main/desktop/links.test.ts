import { describe, expect, it } from 'vitest';
import { externalLink } from './links.js';

describe('links opened outside the app', () => {
  it('opens web and mail addresses', () => {
    expect(externalLink('https://example.org/a?b=1#c')).toBe('https://example.org/a?b=1#c');
    expect(externalLink('http://192.168.1.20:8080/')).toBe('http://192.168.1.20:8080/');
    expect(externalLink('mailto:bob@example.org')).toBe('mailto:bob@example.org');
    expect(externalLink('HTTPS://Example.org')).toBe('https://example.org/');
  });

  it('refuses every other scheme and what is not an address', () => {
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/html,<b>hi</b>',
      'smb://server/share',
      'ms-settings:privacy',
      'vbscript:msgbox',
      'http:',
      'https://',
      'not a url',
      '',
    ]) {
      expect(externalLink(url), url).toBeNull();
    }
  });
});
