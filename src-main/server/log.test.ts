/**
 * Issue 36, item 8: server.log rotated by size, keeping so many older files, and reopened after an outside
 * tool (logrotate) moved it; a line is never split across files nor lost while the older files are kept.
 */
import { existsSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../testing/harness.js';
import { ServerLog } from './log.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = tempDir('lanchat-log-');
  file = join(dir, 'server.log');
});
afterEach(() => removeDir(dir));

/** The `n` of every line of the file, in order (each line must be whole JSON). */
function numbers(path: string): number[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { n: number }).n);
}

const write = (log: ServerLog, from: number, count: number): void => {
  for (let n = from; n < from + count; n += 1) log.info('line', { n, padding: 'x'.repeat(60) });
};

describe('the server log', () => {
  it('rotates past its size into server.log.1, .2, … and loses no line while they are kept', () => {
    const log = new ServerLog(file, { maxBytes: 2000, keep: 50 });
    write(log, 0, 300);
    log.close();
    const rotated = readdirSync(dir).filter((name) => /^server\.log\.\d+$/.test(name));
    expect(rotated.length).toBeGreaterThan(5);
    const oldestFirst = [...rotated.sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop())).map((name) => join(dir, name)), file];
    for (const path of oldestFirst) {
      expect(statSync(path).size, path).toBeLessThanOrEqual(2000);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    expect(oldestFirst.flatMap(numbers)).toEqual([...Array(300).keys()]);
  });

  it('keeps only the newest files it is told to keep', () => {
    const log = new ServerLog(file, { maxBytes: 2000, keep: 2 });
    write(log, 0, 300);
    log.close();
    expect(readdirSync(dir).sort()).toEqual(['server.log', 'server.log.1', 'server.log.2']);
    const kept = [join(dir, 'server.log.2'), join(dir, 'server.log.1'), file].flatMap(numbers);
    // The newest lines, in order, up to the last one written.
    expect(kept.at(-1)).toBe(299);
    expect(kept).toEqual([...Array(kept.length).keys()].map((i) => 300 - kept.length + i));
  });

  it('goes on in a new file once reopened after logrotate moved it, and counts an existing file toward the size', () => {
    const log = new ServerLog(file, { maxBytes: Infinity, keep: 1 });
    write(log, 0, 3);
    renameSync(file, `${file}-20261126`);
    write(log, 3, 2);
    log.reopen();
    write(log, 5, 2);
    log.close();
    expect(numbers(`${file}-20261126`)).toEqual([0, 1, 2, 3, 4]);
    expect(numbers(file)).toEqual([5, 6]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // A host started again on a big file rotates it at its first line past the size.
    const again = new ServerLog(file, { maxBytes: statSync(file).size + 10, keep: 1 });
    write(again, 7, 1);
    again.close();
    expect(numbers(`${file}.1`)).toEqual([5, 6]);
    expect(numbers(file)).toEqual([7]);
    expect(existsSync(`${file}.2`)).toBe(false);
  });
});
