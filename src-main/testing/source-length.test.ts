/**
 * Issue 34's rule for the source: no file over 450 lines unless it is one job that reads best whole, and
 * then its opening comment says so ("Longer than 450 lines on purpose", and why). Tests are not counted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 450;
const SAID = 'Longer than 450 lines on purpose';
const ROOTS = ['src-main', 'src-shared', 'src-renderer'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The file's first comment, where a file says what it is. */
const openingComment = (text: string): string => /\/\*\*[\s\S]*?\*\//.exec(text)?.[0] ?? '';

describe('source files', () => {
  it(`are at most ${MAX_LINES} lines, or say in their opening comment why they are longer`, () => {
    const files = ROOTS.flatMap((root) => sources(join(process.cwd(), root)));
    expect(files.length).toBeGreaterThan(100);
    const unexplained = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      return lines > MAX_LINES && !openingComment(text).includes(SAID) ? [`${file.slice(process.cwd().length + 1)}: ${lines} lines`] : [];
    });
    expect(unexplained).toEqual([]);
  });
});
