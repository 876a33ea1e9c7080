/**
 * The Join screen's "Rooms on your network" with real announcements. Multicast does not cross
 * loopback, so this runs on a throwaway LAN of network namespaces: hosts on their own machines,
 * and the browser shell with its Chromium together on another (Chromium is driven over a pipe,
 * so it can live in the namespace). Skipped, with the reason, where namespaces cannot be made.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium, expect, test } from '@playwright/test';
import { CHROMIUM_PATH } from '../playwright.config.js';
import { type LanProcess, type TestLan, createLan, lanUnavailable } from '../src-main/testing/netns.js';
import { PASSWORD, securityBadge } from './ui.js';

const unavailable = lanUnavailable();
test.skip(unavailable !== null, `discovery e2e skipped: ${unavailable}`);

let lan: TestLan;
let scratch: string;
let browser: Browser | null = null;

test.beforeEach(() => {
  lan = createLan(4);
  scratch = mkdtempSync(join(tmpdir(), 'lanchat-e2e-discovery-'));
});

test.afterEach(async () => {
  await browser?.close();
  browser = null;
  await lan.remove();
  rmSync(scratch, { recursive: true, force: true });
});

// Each machine is a namespace of its own, so these ports are free; distinct ones keep the
// service instance names (machine name and port, and all test machines share one name) apart.
let nextPort = 7101;
async function host(machine: number, args: string[]): Promise<{ process: LanProcess; port: number; fingerprint: string | null }> {
  const process = lan.run(machine, 'src-main/cli/host.ts', ['--port', String(nextPort++), '--data', join(scratch, `host${machine}-${args.join('')}`), ...args]);
  const [, port] = await process.waitLine(/^listening [\d.]+:(\d+)$/);
  const [line] = await process.waitLine(/^fingerprint .*|^not encrypted.*/);
  await process.waitLine(/^announced on the local network/);
  return { process, port: Number(port), fingerprint: /^fingerprint (\S+)$/.exec(line)?.[1] ?? null };
}

/** A browser shell and its Chromium, both on `machine`. */
async function openShell(machine: number, theme: 'light' | 'dark' = 'light'): Promise<Page> {
  const shell = lan.run(machine, 'src-main/web/main.ts', ['--profile', 'bob', '--ui-port', '0'], { LANCHAT_HOME: join(scratch, 'home') });
  const [url] = await shell.waitLine(/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
  const wrapper = join(scratch, 'chromium-in-namespace');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lan.machines[machine]} ${CHROMIUM_PATH} "$@"\n`);
  chmodSync(wrapper, 0o755);
  browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const page = await (await browser.newContext({ colorScheme: theme, locale: 'en-US' })).newPage();
  await page.goto(url);
  await page.getByRole('tab', { name: 'Join room' }).click();
  return page;
}

test('rooms on the network are listed live, and one joins with a click, name and password', async () => {
  const lab = await host(0, ['--room', 'Lab']);
  const other = await host(1, ['--room', 'Lab', '--no-tls', '--access', 'approval']);
  const page = await openShell(3);
  const nearby = page.getByRole('region', { name: 'Rooms on your network' });
  const labButton = nearby.getByRole('button', { name: `${lan.address(0)}:${lab.port}` });
  const otherButton = nearby.getByRole('button', { name: `${lan.address(1)}:${other.port}` });
  await expect(labButton).toContainText('Encrypted · Anyone can join');
  await expect(otherButton).toContainText('Not encrypted · Host approves new people');
  for (const width of [1100, 420]) {
    await page.setViewportSize({ width, height: 800 });
    await test.info().attach(`rooms nearby, light, ${width}px`, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  }

  // The second room stops: its goodbye takes it off the list while the page is open.
  await other.process.stop();
  await expect(otherButton).toHaveCount(0);

  await labButton.click();
  const form = page.getByRole('form', { name: 'Join Lab' });
  await expect(form).toContainText(lab.fingerprint!);
  await form.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await test.info().attach('join form of a nearby room', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await form.getByRole('button', { name: 'Join Lab' }).click();
  await expect(securityBadge(page)).toHaveText('Encrypted');
  await expect(page.getByRole('note').filter({ hasText: 'First connection to this host' })).toContainText(
    'It matches the fingerprint the room announced on the network.',
  );
});

test('an impostor announcing the genuine fingerprint is refused with the changed-identity warning', async () => {
  const lab = await host(0, ['--room', 'Lab']);
  const impostor = lan.run(1, 'src-main/discovery/testing/impostor.ts', [join(scratch, 'impostor'), 'Lab', lab.fingerprint!]);
  const [, impostorPort] = await impostor.waitLine(/^impostor (\d+)$/);
  const page = await openShell(3, 'dark');
  await page.getByRole('region', { name: 'Rooms on your network' }).getByRole('button', { name: `${lan.address(1)}:${impostorPort}` }).click();
  const form = page.getByRole('form', { name: 'Join Lab' });
  await form.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Join Lab' }).click();
  const warning = page.getByRole('alert', { name: 'The host’s identity has changed' });
  await expect(warning).toContainText('Announced on the network');
  await expect(warning).toContainText(lab.fingerprint!);
  await test.info().attach('impostor refused, dark', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await expect(securityBadge(page)).toHaveCount(0);
});
