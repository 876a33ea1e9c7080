/**
 * The photographs people look at, in every spec: taken when LANCHAT_SHOTS names a folder, and saved there.
 * Without it the specs check the same screens (overflow, axe, text on one line) and take none: in CI nobody
 * looks at them, and they were about a minute of the e2e stage. A failed test keeps Playwright's own screenshot.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page, PageScreenshotOptions } from '@playwright/test';

const folder = process.env['LANCHAT_SHOTS'] || undefined;

/** Whether this run takes photographs. */
export const photographing = folder !== undefined;

/** `<folder>/<name, a dash for each run of other than letters and digits>.png`, when photographing. */
export async function photograph(target: Page | Locator, name: string, options: Pick<PageScreenshotOptions, 'clip' | 'animations' | 'fullPage'> = {}): Promise<void> {
  if (folder === undefined) return;
  mkdirSync(folder, { recursive: true });
  await target.screenshot({ ...options, path: join(folder, `${name.replaceAll(/\W+/g, '-')}.png`) });
}
