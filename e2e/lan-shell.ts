/**
 * A browser shell and its Chromium on one machine of a test LAN (src-main/testing/netns.ts): what
 * rooms announced on the network need, as multicast does not cross loopback. Chromium is driven over
 * a pipe, so it can live in the namespace.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from '@playwright/test';
import { CHROMIUM_PATH } from '../playwright.config.js';
import type { TestLan } from '../src-main/testing/netns.js';

/** Starts `profile`'s shell on `machine` (its home under `scratch`), and a page on it (Chromium given `args` too); the caller closes the browser. */
export async function openLanShell(
  lan: TestLan,
  machine: number,
  scratch: string,
  { profile = 'bob', theme = 'light', args = [] }: { profile?: string; theme?: 'light' | 'dark'; args?: string[] } = {},
): Promise<{ browser: Browser; page: Page }> {
  const shell = lan.run(machine, 'src-main/web/main.ts', ['--profile', profile, '--ui-port', '0'], { LANCHAT_HOME: join(scratch, `home-${profile}`) });
  const [url] = await shell.waitLine(/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
  const wrapper = join(scratch, `chromium-on-machine-${machine}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lan.machines[machine]} ${CHROMIUM_PATH} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', ...args] });
  const page = await (await browser.newContext({ colorScheme: theme, locale: 'en-US' })).newPage();
  await page.goto(url);
  return { browser, page };
}
