/**
 * The Join screen's "Rooms on your network" with real announcements. Multicast does not cross
 * loopback, so this runs on a throwaway LAN of network namespaces: hosts on their own machines,
 * and the browser shell with its Chromium together on another (Chromium is driven over a pipe,
 * so it can live in the namespace). Skipped, with the reason, where namespaces cannot be made.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, expect, test } from '@playwright/test';
import { openLanShell } from './lan-shell.js';
import { type LanProcess, type TestLan, createLan, lanUnavailable } from '../src-main/testing/netns.js';
import { PASSWORD, securityBadge } from './ui.js';
import { photograph } from './photos.js';

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
async function host(machine: number, args: string[]): Promise<{ process: LanProcess; port: number; fingerprint: string | null; data: string }> {
  const data = join(scratch, `host${machine}-${args.join('')}`);
  const process = lan.run(machine, 'src-main/cli/host.ts', ['--port', String(nextPort++), '--data', data, ...args]);
  const [, port] = await process.waitLine(/^listening [\d.]+:(\d+)$/);
  const [line] = await process.waitLine(/^fingerprint .*|^not encrypted.*/);
  await process.waitLine(/^announced on the local network/);
  return { process, port: Number(port), fingerprint: /^fingerprint (\S+)$/.exec(line)?.[1] ?? null, data };
}

/** The accounts a host's log shows registering or logging in. */
function accountsIn(data: string): string[] {
  return readFileSync(join(data, 'server.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { event: string; user?: string })
    .filter((entry) => entry.event === 'registration' || entry.event === 'login')
    .map((entry) => entry.user!);
}

/** A browser shell and its Chromium, both on `machine`, on the Join tab. */
async function openShell(machine: number, theme: 'light' | 'dark' = 'light'): Promise<Page> {
  const opened = await openLanShell(lan, machine, scratch, { theme });
  browser = opened.browser;
  await opened.page.getByRole('tab', { name: 'Join room' }).click();
  return opened.page;
}

test('rooms on the network are listed live, and one joins with a click, name and password', async () => {
  const lab = await host(0, ['--room', 'Lab']);
  const other = await host(1, ['--room', 'Lab', '--no-tls', '--access', 'approval']);
  const page = await openShell(3);
  const nearby = page.getByRole('region', { name: 'Rooms on your network' });
  const labButton = nearby.getByRole('button', { name: `${lan.address(0)}:${lab.port}` });
  const otherButton = nearby.getByRole('button', { name: `${lan.address(1)}:${other.port}` });
  await expect(labButton).toContainText('Encrypted to the host · Anyone can join');
  await expect(otherButton).toContainText('Not encrypted · Host approves new people');
  for (const width of [1100, 420]) {
    await page.setViewportSize({ width, height: 800 });
    await photograph(page, `rooms nearby, light, ${width}px`, { fullPage: true });
  }

  // The second room stops: its goodbye takes it off the list while the page is open.
  await other.process.stop();
  await expect(otherButton).toHaveCount(0);

  await labButton.click();
  const form = page.getByRole('form', { name: 'Join Lab' });
  await expect(form).toContainText(lab.fingerprint!);
  await form.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await photograph(page, 'join form of a nearby room', { fullPage: true });
  await form.getByRole('button', { name: 'Join Lab' }).click();
  await expect(securityBadge(page)).toHaveText('Encrypted to the host');
  // The announcement is the room's own word: the first-use note does not cite it as proof.
  const firstUse = page.getByRole('region', { name: 'First connection to this host' });
  await expect(firstUse).toContainText(lab.fingerprint!);
  await expect(firstUse).not.toContainText('announced');
});

test('a second room with the name of a room joined before is listed as another room, and gets no password without its own confirmation', async () => {
  const genuine = await host(0, ['--room', 'Team Room']);
  const impostor = await host(1, ['--room', 'Team Room']);
  const page = await openShell(3);
  const nearby = page.getByRole('region', { name: 'Rooms on your network' });
  const genuineButton = nearby.getByRole('button', { name: `${lan.address(0)}:${genuine.port}` });
  const impostorButton = nearby.getByRole('button', { name: `${lan.address(1)}:${impostor.port}` });
  // Each lists the start of its fingerprint; before any join neither is marked.
  await expect(genuineButton).toContainText(genuine.fingerprint!.slice(0, 11));
  await expect(impostorButton).toContainText(impostor.fingerprint!.slice(0, 11));

  await genuineButton.click();
  const genuineForm = page.getByRole('form', { name: 'Join Team Room' });
  await genuineForm.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await genuineForm.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await genuineForm.getByRole('button', { name: 'Join Team Room' }).click();
  await expect(securityBadge(page)).toHaveText('Encrypted to the host');
  await page.getByRole('button', { name: 'Leave room' }).click();
  await page.getByRole('tab', { name: 'Join room' }).click();

  await expect(genuineButton).toContainText('The room you joined before');
  await expect(impostorButton).toContainText('Another room calls itself “Team Room” — not the one you joined');
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    for (const width of [1100, 420]) {
      await page.setViewportSize({ width, height: 800 });
      await photograph(page, `look-alike in the room list, ${theme}, ${width}px`, { fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1100, height: 800 });

  await impostorButton.click();
  const form = page.getByRole('form', { name: 'Join Team Room' });
  await form.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Join Team Room' }).click();
  const warning = page.getByRole('alert', { name: 'Another room calls itself “Team Room” — not the one you joined' });
  await expect(warning).toContainText(genuine.fingerprint!.slice(0, 11));
  await expect(warning).toContainText(impostor.fingerprint!.slice(0, 11));
  const goOn = warning.getByRole('button', { name: 'Join this other room' });
  // Not the first-use flow: the button waits for its own, separate confirmation.
  await expect(goOn).toBeDisabled();
  await expect(securityBadge(page)).toHaveCount(0);
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    for (const width of [1100, 420]) {
      await page.setViewportSize({ width, height: 900 });
      // The start screen scrolls inside itself: bring the whole warning, down to its button, into the picture.
      await goOn.scrollIntoViewIfNeeded();
      await photograph(page, `look-alike warning, ${theme}, ${width}px`, { fullPage: true });
    }
  }
  expect(accountsIn(impostor.data)).toEqual([]);

  await warning.getByRole('checkbox', { name: 'I know this is a different room from the “Team Room” I joined' }).check();
  await goOn.click();
  await expect(securityBadge(page)).toHaveText('Encrypted to the host');
  expect(accountsIn(impostor.data)).toContain('bob');
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
  await photograph(page, 'impostor refused, dark', { fullPage: true });
  await expect(securityBadge(page)).toHaveCount(0);
});
