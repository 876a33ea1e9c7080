/**
 * The first five minutes, walked once (issue 38): Ayla hosts a room; Berk, on another machine of a
 * test LAN, finds it in "Rooms on your network", joins from the list and answers the first-connection
 * question; Ayla starts a direct message and sends a file; Berk finds the file by its name. At each
 * step: nothing scrolls sideways, axe finds nothing serious, and screenshots in light and dark,
 * English and Turkish, 1280 and 720 px go to a folder when LANCHAT_SHOTS names one (e2e/photos.ts),
 * to be looked at, never compared by pixel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type ElementHandle, type Locator, type Page, expect, test } from '@playwright/test';
import { type TestLan, createLan, lanUnavailable } from '../src-main/testing/netns.js';
import { seriousViolations } from './axe.js';
import { photograph } from './photos.js';
import { openLanShell } from './lan-shell.js';
import { PASSWORD, conversationLink, expectOnline, message, securityBadge } from './ui.js';

const unavailable = lanUnavailable();
test.skip(unavailable !== null, `first-minutes e2e skipped: ${unavailable}`);

const WIDTHS = [1280, 720] as const;
const LANGUAGES = { en: 'Settings', tr: 'Ayarlar' } as const;
type Language = keyof typeof LANGUAGES;

let lan: TestLan;
let scratch: string;
const browsers: Browser[] = [];

test.beforeEach(() => {
  lan = createLan(2);
  scratch = mkdtempSync(join(tmpdir(), 'lanchat-e2e-first-minutes-'));
});

test.afterEach(async () => {
  await Promise.all(browsers.splice(0).map((browser) => browser.close()));
  await lan.remove();
  rmSync(scratch, { recursive: true, force: true });
});

async function chooseLanguage(page: Page, from: Language, to: Language) {
  if (from === to) return;
  await page.getByRole('button', { name: LANGUAGES[from], exact: true }).click();
  await page.getByRole('combobox', { name: from === 'en' ? 'Language' : 'Dil' }).selectOption(to);
  await page.keyboard.press('Escape');
}

/** Elements that stick out of `box` on the right (the join card's trouble), and panes that scroll sideways. */
async function overflowing(page: Page, box?: ElementHandle<HTMLElement>): Promise<string[]> {
  const panes = await page.evaluate(() =>
    [document.documentElement, document.body, ...document.querySelectorAll('.app, .app-header, .first-use-bar, .main-window, .sidebar, .conversation, .start-screen, .search-results')]
      .filter((element) => element.scrollWidth > element.clientWidth + 1)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className} ${element.scrollWidth}>${element.clientWidth}`),
  );
  const inBox = box
    ? await box.evaluate((element) => {
        const right = element.getBoundingClientRect().right;
        return [...element.querySelectorAll('*')]
          .filter((child) => child.getBoundingClientRect().right > right + 1)
          .map((child) => `${child.tagName.toLowerCase()}.${child.className} sticks out`);
      })
    : [];
  return [...panes, ...inBox];
}

/**
 * One step of the walk: in each language and theme, at each width, nothing overflows (nor sticks out
 * of `box`, an element whose accessible name may change with the language) and the page is photographed; axe runs once per theme. Leaves the page in English, light, wide.
 */
async function step(page: Page, name: string, box?: ElementHandle<HTMLElement>) {
  let language: Language = 'en';
  for (const next of ['en', 'tr'] as const) {
    await chooseLanguage(page, language, next);
    language = next;
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      if (language === 'en') expect(await seriousViolations(page, colorScheme), `${name}, ${colorScheme}`).toEqual([]);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 800 });
        await expect(async () => expect(await overflowing(page, box), `${name}, ${language}, ${width} px`).toEqual([])).toPass({ timeout: 10_000 });
        await photograph(page, `${name}-${language}-${colorScheme}-${width}`, { animations: 'disabled' });
      }
    }
  }
  await chooseLanguage(page, language, 'en');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: WIDTHS[0], height: 800 });
}

test('the first five minutes: host, join from the list, trust, a first direct message and file, found by search', async () => {
  test.setTimeout(300_000);
  const ayla = await openLanShell(lan, 0, scratch, { profile: 'ayla' });
  const berk = await openLanShell(lan, 1, scratch, { profile: 'berk' });
  browsers.push(ayla.browser, berk.browser);
  const [a, b] = [ayla.page, berk.page];
  for (const page of [a, b]) await page.setViewportSize({ width: WIDTHS[0], height: 800 });

  // The whole walk by keyboard: each control is reached with the keyboard (focus), then typed into or
  // worked with Enter, never clicked.
  await press(a.getByRole('tab', { name: 'Host room' }), 'Enter');
  await typeInto(a.getByRole('textbox', { name: 'Room name', exact: true }), 'Lab');
  await typeInto(a.getByRole('textbox', { name: 'Port' }), '7301');
  await typeInto(a.getByRole('textbox', { name: 'Your name' }), 'Ayla');
  await typeInto(a.getByLabel('Password', { exact: true }), PASSWORD);
  await press(a.getByRole('button', { name: 'Start hosting' }), 'Enter');
  await expectOnline(a);

  await press(b.getByRole('tab', { name: 'Join room' }), 'Enter');
  await press(b.getByRole('region', { name: 'Rooms on your network' }).getByRole('button', { name: /Lab/ }), 'Enter');
  const card = b.getByRole('form', { name: 'Join Lab' });
  await expect(card.getByRole('button', { name: 'Copy fingerprint' })).toBeVisible();
  await typeInto(card.getByRole('textbox', { name: 'Your name' }), 'Berk');
  await typeInto(card.getByLabel('Password', { exact: true }), PASSWORD);
  // Held as the element: its name changes with the language.
  await step(b, '1-join-card', (await card.elementHandle()) as ElementHandle<HTMLElement>);
  await press(card.getByRole('button', { name: 'Join Lab' }), 'Enter');
  await expectOnline(b);

  const question = b.getByRole('region', { name: 'First connection to this host' });
  await expect(question).toBeVisible();
  await expect(securityBadge(b)).toHaveText('Encrypted to the host');
  await step(b, '2-first-connection');
  await press(question.getByRole('button', { name: 'Trust', exact: true }), 'Enter');
  await expect(question).toHaveCount(0);

  // The first direct message by keyboard alone, found by part of a name: the New chat menu, the people
  // picker (arrows, Enter), then the composer, which has the focus once the chat is open.
  await a.getByRole('button', { name: 'New chat' }).focus();
  await a.keyboard.press('Enter');
  await expect(a.getByRole('menuitem', { name: 'New direct message' })).toBeFocused();
  await a.keyboard.press('Enter');
  const picker = a.getByRole('dialog', { name: 'New direct message' }).getByRole('combobox', { name: 'User name' });
  await expect(picker).toBeFocused();
  await a.keyboard.type('be');
  await a.keyboard.press('ArrowDown');
  await expect(a.getByRole('option', { name: /Berk/ })).toHaveAttribute('aria-selected', 'true');
  await a.keyboard.press('Enter');
  await expect(a.getByRole('dialog', { name: 'New direct message' })).toHaveCount(0);
  await expect(a.getByRole('textbox', { name: 'Message' })).toBeFocused();
  await press(b.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept Ayla' }), 'Enter');
  await expect(a.getByRole('textbox', { name: 'Message' })).toBeFocused();
  await a.keyboard.type('Welcome, Berk! The plan is attached.');
  await a.keyboard.press('Enter');
  await press(conversationLink(b, /^Ayla/), 'Enter');
  await expect(message(b, 'Welcome, Berk!')).toBeVisible();
  await step(b, '3-first-dm');

  // The first file from the attach button's file chooser, sent with Enter.
  const chooser = a.waitForEvent('filechooser');
  await press(a.getByRole('button', { name: 'Attach files' }), 'Enter');
  await (await chooser).setFiles({ name: 'quarterly-plan.txt', mimeType: 'text/plain', buffer: Buffer.from('Q1: ship it.\n') });
  await expect(a.getByRole('list', { name: 'Files to send' })).toBeVisible();
  await press(a.getByRole('textbox', { name: 'Message' }), 'Enter');
  await expect(a.getByRole('list', { name: 'Files to send' })).toHaveCount(0);
  await expect(fileMessage(b, 'quarterly-plan.txt')).toBeVisible();
  await step(a, '4-first-file');

  const search = b.getByRole('searchbox', { name: 'Search messages' });
  await b.keyboard.press('Control+k');
  await expect(search).toBeFocused();
  await b.keyboard.type('quarterly');
  const results = b.getByRole('list', { name: 'Search results' });
  await expect(results.getByRole('button')).toHaveCount(1);
  await expect(results.getByRole('button')).toContainText('quarterly-plan.txt');
  await step(b, '5-search-file-name');
});

/** Moves the keyboard's focus to a control and presses a key there. */
async function press(control: Locator, key: string): Promise<void> {
  await control.focus();
  await control.press(key);
}

/** Moves the keyboard's focus to a field and types into it key by key, over what it held. */
async function typeInto(field: Locator, text: string): Promise<void> {
  await field.focus();
  await field.press('ControlOrMeta+a');
  await field.pressSequentially(text);
  await expect(field).toHaveValue(text);
}

function fileMessage(page: Page, name: string): Locator {
  return page.getByRole('log', { name: 'Messages' }).getByRole('article').filter({ hasText: name });
}
