import { describe, expect, it } from 'vitest';
import { type FileLimitTexts, parseSize, readFileLimits, sizeText } from './sizes.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;

describe('sizes typed into a form', () => {
  it('reads megabytes and gigabytes as people type them, a bare number as megabytes', () => {
    expect(parseSize('500 MB', 'en')).toBe(500 * MB);
    expect(parseSize('2gb', 'en')).toBe(2 * GB);
    expect(parseSize(' 1.5 GB ', 'en')).toBe(1.5 * GB);
    expect(parseSize('800', 'en')).toBe(800 * MB);
    expect(parseSize('64 KiB', 'en')).toBe(64 * 1024);
    expect(parseSize('1 T', 'en')).toBe(1024 * GB);
    expect(parseSize('900 B', 'en')).toBe(900);
  });

  it('takes a decimal comma and thousands separators in either language', () => {
    expect(parseSize('2,5 GB', 'tr')).toBe(2.5 * GB);
    expect(parseSize('1,5 GB', 'en')).toBe(1.5 * GB);
    expect(parseSize('1,000 MB', 'en')).toBe(1000 * MB);
    expect(parseSize('1.000 MB', 'tr')).toBe(1000 * MB);
    expect(parseSize('1.5 GB', 'tr')).toBe(1.5 * GB);
    expect(parseSize('1,024.5 MB', 'en')).toBe(1024.5 * MB);
    expect(parseSize('1.024,5 MB', 'tr')).toBe(1024.5 * MB);
  });

  it('tells an empty field from one that is not a size above 0', () => {
    expect(parseSize('  ', 'en')).toBeUndefined();
    for (const text of ['0', '0 MB', 'lots', '-5 MB', '5 PB', '1.2.3 MB', 'MB', '1e3', '99999999999 TB']) expect(parseSize(text, 'en'), text).toBeNull();
  });

  it('writes a size back so that it reads the same bytes', () => {
    expect(sizeText(2 * GB, 'en')).toBe('2 GB');
    expect(sizeText(1.5 * GB, 'tr')).toBe('1,5 GB');
    expect(sizeText(100 * MB, 'en')).toBe('100 MB');
    expect(sizeText(900, 'en')).toBe('900 B');
    for (const bytes of [MB, 1536 * MB, 314_573, 3 * GB + 1, 12_345]) {
      for (const language of ['en', 'tr']) expect(parseSize(sizeText(bytes, language), language)).toBe(bytes);
    }
  });
});

describe('the Host room form’s file limits', () => {
  const texts = (changes: Partial<FileLimitTexts>): FileLimitTexts => ({ maxFileBytes: '', maxFileStorageBytes: '', maxFileBytesPerDay: '', ...changes });

  it('gives the typed limits in bytes and leaves the empty ones to the host’s defaults', () => {
    expect(readFileLimits(texts({}), 'en')).toEqual({ ok: true, limits: {} });
    expect(readFileLimits(texts({ maxFileBytes: '5 MB', maxFileBytesPerDay: '1,5 GB' }), 'tr')).toEqual({
      ok: true,
      limits: { maxFileBytes: 5 * MB, maxFileBytesPerDay: 1.5 * GB },
    });
  });

  it('names the field that is not a size, and a largest file above all files together', () => {
    expect(readFileLimits(texts({ maxFileBytes: '5 MB', maxFileStorageBytes: 'plenty' }), 'en')).toEqual({ ok: false, field: 'maxFileStorageBytes', problem: 'badSize' });
    expect(readFileLimits(texts({ maxFileBytes: '2 GB', maxFileStorageBytes: '1 GB' }), 'en')).toEqual({ ok: false, field: 'maxFileBytes', problem: 'fileOverStorage' });
  });
});
