import { describe, expect, it } from 'vitest';
import { fileNameProblem, fitFileName } from './file-names.js';
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
    expect(fileNameProblem('..')).toMatch(/empty/);
    expect(fileNameProblem('x'.repeat(LIMITS.maxFileNameLength + 1))).toMatch(/at most/);
  });

  it('fits any name to the rule, and what it gives the host keeps', () => {
    const cases: [string, string][] = [
      ['photo\u202Egpj.exe', 'photo_gpj.exe'],
      ['a/b\\c.txt', 'a_b_c.txt'],
      ['line\nbreak\u0000.txt', 'line_break_.txt'],
      ['e\u0301te\u0301.txt', 'été.txt'],
      ['   ', 'file'],
      ['..', 'file'],
    ];
    for (const [raw, fitted] of cases) {
      expect(fitFileName(raw)).toBe(fitted);
      expect(fileNameProblem(fitFileName(raw))).toBeNull();
    }
  });

  it('shortens a long name in its stem and keeps the extension', () => {
    const fitted = fitFileName(`${'ş'.repeat(300)}.tar.gz`);
    expect([...fitted]).toHaveLength(LIMITS.maxFileNameLength);
    expect(fitted.endsWith('ş.gz')).toBe(true);
    expect(fileNameProblem(fitted)).toBeNull();
    const emoji = fitFileName('😀'.repeat(400));
    expect([...emoji]).toHaveLength(LIMITS.maxFileNameLength);
    expect(fileNameProblem(emoji)).toBeNull();
  });
});
