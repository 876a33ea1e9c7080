/**
 * The import-circle check that `npm run lint` runs, with the repository's configuration
 * (.dependency-cruiser.mjs) on small trees of files written here: it fails on a circle, type-only imports and
 * `.js`-suffixed TypeScript paths included, and passes without one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterEach, describe, expect, it } from 'vitest';

const CONFIG = join(process.cwd(), '.dependency-cruiser.mjs');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes the files (path → source) into a fresh folder with a tsconfig like the project's, and runs the check there. */
async function check(files: Record<string, string>): Promise<{ failed: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-circles-'));
  dirs.push(dir);
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', verbatimModuleSyntax: true, strict: true } };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  const options = { ...(await extractDepcruiseOptions(CONFIG)), baseDir: dir, outputType: 'err' as const };
  const { output, exitCode } = await cruise(['src-main'], options, {}, { tsConfig: extractTSConfig(join(dir, 'tsconfig.json')) });
  return { failed: exitCode !== 0, output: String(output) };
}

describe('the import-circle check', () => {
  it('passes files that import each other in one direction only', async () => {
    const result = await check({
      'src-main/server/errors.ts': 'export class Failure extends Error {}\n',
      'src-main/server/a.ts': "import { Failure } from './errors.js';\nexport const fail = () => new Failure();\n",
      'src-main/server/b.ts': "import type { Failure } from './errors.js';\nimport { fail } from './a.js';\nexport const failure: Failure = fail();\n",
    });
    expect(result).toEqual({ failed: false, output: expect.stringContaining('no dependency violations found') });
  });

  it('fails on two files that import each other, one of them for a type only', async () => {
    const result = await check({
      'src-main/server/a.ts': "import type { B } from './b.js';\nexport const a = (b: B) => b.name;\n",
      'src-main/server/b.ts': "import { a } from './a.js';\nexport interface B { name: string }\nexport const b = a({ name: 'b' });\n",
    });
    expect(result.failed).toBe(true);
    expect(result.output).toMatch(/no-circular: src-main\/server\/a\.ts →\s+src-main\/server\/b\.ts →\s+src-main\/server\/a\.ts/);
  });

  it('fails on a circle through three files in different folders', async () => {
    const result = await check({
      'src-main/net/a.ts': "import { b } from '../server/b.js';\nexport const a = () => b;\n",
      'src-main/server/b.ts': "import { c } from './handlers/c.js';\nexport const b = () => c;\n",
      'src-main/server/handlers/c.ts': "export { a as c } from '../../net/a.js';\n",
    });
    expect(result.failed).toBe(true);
    expect(result.output).toContain('src-main/server/handlers/c.ts');
  });
});
