import { describe, expect, it } from 'vitest';
import { SAVED_NAME_BYTES, fileNameProblem, fitFileName, savedFileName } from './file-names.js';
import { LIMITS } from './protocol/limits.js';

describe('file names', () => {
  it('keeps an ordinary name as it is', () => {
    for (const name of ['Quarterly report.pdf', 'ünïcödé 写真.jpg', '.bashrc', 'a']) {
      expect(fileNameProblem(name)).toBeNull();
      expect(fitFileName(name)).toBe(name);
    }
  });

  it('names what the host refuses', () => {
    expect(fileNameProblem('a/b.txt')).toMatch(/\//);
    expect(fileNameProblem('photo\u202Egpj.exe')).toMatch(/invisible/);
    expect(fileNameProblem('bell\u0007.txt')).toMatch(/control/);
    expect(fileNameProblem('line\u2028sep.txt')).toMatch(/line separator/);
    expect(fileNameProblem('para\u2029sep.txt')).toMatch(/line separator/);
    expect(fileNameProblem('..')).toMatch(/empty/);
    expect(fileNameProblem('x'.repeat(LIMITS.maxFileNameBytes + 1))).toMatch(/at most 255 bytes/);
    // 64 emoji are 64 characters but 256 bytes: too long for a file system, refused.
    expect(fileNameProblem('😀'.repeat(64))).toMatch(/at most 255 bytes/);
    expect(fileNameProblem(`${'😀'.repeat(63)}abc`)).toBeNull();
  });

  it('fits any name to the rule, and what it gives the host keeps', () => {
    const cases: [string, string][] = [
      ['photo\u202Egpj.exe', 'photo_gpj.exe'],
      ['a/b\\c.txt', 'a_b_c.txt'],
      ['line\nbreak\u0000.txt', 'line_break_.txt'],
      ['line\u2028para\u2029.txt', 'line_para_.txt'],
      ['e\u0301te\u0301.txt', 'été.txt'],
      ['   ', 'file'],
      ['..', 'file'],
    ];
    for (const [raw, fitted] of cases) {
      expect(fitFileName(raw)).toBe(fitted);
      expect(fileNameProblem(fitFileName(raw))).toBeNull();
    }
  });

  it('shortens a long name in its stem to 255 bytes, on a character boundary, and keeps the extension', () => {
    const fitted = fitFileName(`${'ş'.repeat(300)}.tar.gz`);
    // ş is 2 bytes: 126 of them and ".gz" make 255 bytes.
    expect(fitted).toBe(`${'ş'.repeat(126)}.gz`);
    expect(fileNameProblem(fitted)).toBeNull();
    const emoji = fitFileName('😀'.repeat(400));
    expect(emoji).toBe('😀'.repeat(63));
    expect(fileNameProblem(emoji)).toBeNull();
    // q̃ has no precomposed form: q and a combining tilde, 3 bytes, one character, kept whole or not at all.
    const accented = fitFileName(`${'q\u0303'.repeat(100)}.png`);
    expect(accented).toBe(`${'q\u0303'.repeat(83)}.png`);
    expect(Buffer.byteLength(accented)).toBe(253);
  });
});

describe('names to save a received file under', () => {
  const bytes = (name: string): number => Buffer.byteLength(name);

  it('keeps a name every system can save as it is', () => {
    for (const name of ['Quarterly report.pdf', 'ünïcödé 写真.jpg', '.bashrc', 'a', 'CONSOLE.txt', 'nul-and-void.txt', 'COM10']) {
      expect(savedFileName(name)).toBe(name);
    }
  });

  it('replaces what Windows, macOS or Linux cannot have in a name, and drops trailing dots and spaces', () => {
    const cases: [string, string][] = [
      ['a?b.txt', 'a_b.txt'],
      ['a:b.txt', 'a_b.txt'],
      ['<>:"/\\|?*.txt', '_________.txt'],
      ['tab\there\u0000.txt', 'tab_here_.txt'],
      ['line\u2028para\u2029.txt', 'line_para_.txt'],
      ['photo\u202Egpj.exe', 'photo_gpj.exe'],
      ['trail. ', 'trail'],
      ['dots...', 'dots'],
      ['. .', 'file'],
      ['..', 'file'],
      ['', 'file'],
    ];
    for (const [name, saved] of cases) expect(savedFileName(name)).toBe(saved);
  });

  it('never gives a name Windows reserves for a device, with or without an extension, in any case', () => {
    const reserved = ['CON', 'PRN', 'AUX', 'NUL', 'COM1', 'COM9', 'LPT1', 'LPT9', 'COM¹', 'LPT³'];
    for (const name of reserved) {
      for (const spelled of [name, name.toLowerCase(), `${name}.txt`, `${name.toLowerCase()}.tar.gz`, `${name} .txt`]) {
        const saved = savedFileName(spelled);
        expect(saved).toBe(`_${spelled}`);
      }
    }
    expect(savedFileName('nul.')).toBe('_nul');
  });

  it('bounds the name in bytes, leaving room for ".part", cut on a character boundary, keeping the extension', () => {
    expect(SAVED_NAME_BYTES).toBe(250);
    const ascii = savedFileName(`${'a'.repeat(300)}.txt`);
    expect(ascii).toBe(`${'a'.repeat(246)}.txt`);
    const emoji = savedFileName(`${'😀'.repeat(100)}.pdf`);
    expect(emoji).toBe(`${'😀'.repeat(61)}.pdf`);
    expect(bytes(emoji)).toBeLessThanOrEqual(SAVED_NAME_BYTES);
    // A prefix that makes a name unique counts in the bound too.
    const prefixed = savedFileName(`q7bX4mZkT0a9y8w2vR5s1A-${'é'.repeat(200)}.docx`);
    expect(prefixed.startsWith('q7bX4mZkT0a9y8w2vR5s1A-é')).toBe(true);
    expect(prefixed.endsWith('é.docx')).toBe(true);
    expect(bytes(prefixed)).toBeLessThanOrEqual(SAVED_NAME_BYTES);
    // An "extension" as long as the name is not one: the name is cut at its end.
    const noExtension = savedFileName(`a.${'b'.repeat(300)}`);
    expect(noExtension).toBe(`a.${'b'.repeat(248)}`);
    // Shortening never leaves a trailing dot or space behind.
    expect(savedFileName(`${'a'.repeat(240)}${' '.repeat(20)}b`)).toBe('a'.repeat(240));
  });
});
