/**
 * Regressions from issue 11 in the room's screens: the composer's limit and growth, the
 * disabled Send button, the header beside the first-use note, long group names, the
 * fingerprint's line breaks, sidebar form errors, the person filter, and colour emoji.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, sharedRoom, test } from './fixtures.js';
import { photograph } from './photos.js';
import { createGroup, message, newChat, openRoomSettings, send } from './ui.js';

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
const sendButton = (page: Page) => page.getByRole('button', { name: 'Send', exact: true });
const height = (locator: Locator) => locator.evaluate((element) => element.getBoundingClientRect().height);
const background = (locator: Locator) => locator.evaluate((element) => getComputedStyle(element).backgroundColor);

/** The widths of the scroll box around an element (its nearest ancestor that scrolls vertically). */
const scrollBoxWidths = (locator: Locator) =>
  locator.evaluate((element) => {
    let box: Element | null = element;
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowY)) box = box.parentElement;
    const scroller = box ?? document.documentElement;
    return { scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth };
  });

// alice hosts, bob joined (for the first time: his first-use note stays, as nobody answers it).
const room = sharedRoom(['alice', 'bob']);

async function chooseTheme(page: Page, theme: 'System' | 'Light' | 'Dark') {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('combobox', { name: 'Theme' }).selectOption({ label: theme });
  await page.keyboard.press('Escape');
}

test('composer: a counter near the limit, a plain sentence over it, growth with wrapped text up to a cap; disabled Send looks disabled', async () => {
  const bob = (await room('bob'))[0]!.page;

  for (const theme of ['Dark', 'Light'] as const) {
    await chooseTheme(bob, theme);
    await composer(bob).fill('');
    const disabled = await background(sendButton(bob));
    await composer(bob).fill('hello');
    expect(await background(sendButton(bob)), `${theme}: disabled and enabled Send differ`).not.toBe(disabled);
  }
  await chooseTheme(bob, 'System');

  await composer(bob).fill('hi');
  const oneLine = await height(composer(bob));
  // One long paragraph without line breaks: it wraps, and the field grows with it.
  await composer(bob).fill('word '.repeat(60));
  const wrapped = await height(composer(bob));
  expect(wrapped).toBeGreaterThan(oneLine);
  await composer(bob).fill('word '.repeat(1200));
  const capped = await height(composer(bob));
  expect(capped).toBeGreaterThan(wrapped);
  await composer(bob).fill('word '.repeat(1500));
  expect(await height(composer(bob))).toBe(capped);

  await composer(bob).fill('x'.repeat(7600));
  await expect(bob.getByText('400 characters left')).toBeVisible();
  await expect(sendButton(bob)).toBeEnabled();
  await composer(bob).fill('x'.repeat(8001));
  await expect(bob.getByText('The message is 1 character too long: a message holds at most 8000.')).toBeVisible();
  await expect(sendButton(bob)).toBeDisabled();
  await composer(bob).press('Enter');
  await expect(composer(bob)).toHaveValue('x'.repeat(8001));
  await photograph(bob, 'composer over the limit');
  await composer(bob).fill('short again');
  await expect(bob.getByText(/too long|characters left/)).toHaveCount(0);
});

test('header, sidebar and room settings hold long content: names beside the first-use note, a 48-character group, the fingerprint', async () => {
  const [alice, bob] = (await room('alice', 'bob')).map((user) => user.page);

  // bob joined for the first time: the fingerprint note is in the header, and the names stay readable.
  await expect(bob!.getByRole('region', { name: 'First connection to this host' })).toBeVisible();
  for (const name of ['Lab', 'bob']) {
    const shown = bob!.getByRole('banner').getByText(name, { exact: true });
    const [scrollWidth, clientWidth] = await shown.evaluate((element) => [element.scrollWidth, element.clientWidth]);
    expect(clientWidth, `${name} has room`).toBeGreaterThan(0);
    expect(scrollWidth, `${name} is not cut`).toBeLessThanOrEqual(clientWidth);
  }

  const longName = 'G'.repeat(48);
  await createGroup(bob!, longName);
  const link = bob!.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: longName });
  await expect(link).toBeVisible();
  const sidebar = await scrollBoxWidths(link);
  expect(sidebar.scrollWidth).toBeLessThanOrEqual(sidebar.clientWidth);

  // Room settings are narrower than the fingerprint: every line but the last ends between two bytes.
  const fingerprint = (await openRoomSettings(alice!)).getByRole('note', { name: 'Room fingerprint' });
  const lines = await fingerprint.evaluate((element) => {
    const byLine = new Map<number, string>();
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.textContent!.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const top = Math.round(range.getBoundingClientRect().top);
        byLine.set(top, (byLine.get(top) ?? '') + node.textContent![i]);
      }
    }
    return [...byLine.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
  });
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(0, -1)) expect(line).toMatch(/^([0-9A-F]{2}:)+$/);
  expect(lines.join('')).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('sidebar form errors clear on editing; the person filter suggests names and never shows stale hits beside its error', async () => {
  const [alice, bob] = (await room('alice', 'bob')).map((user) => user.page);
  await send(bob!, 'hello from bob');
  await expect(message(alice!, 'hello from bob')).toBeVisible();

  const newDm = await newChat(alice!, 'New direct message');
  await newDm.getByRole('combobox', { name: 'User name' }).fill('nobody');
  await newDm.getByRole('button', { name: 'Start chat' }).click();
  await expect(newDm.getByRole('alert')).toHaveText('There is no such user.');
  await newDm.getByRole('combobox', { name: 'User name' }).fill('bo');
  await expect(newDm.getByRole('alert')).toHaveCount(0);
  // The first Escape closes the people picker's suggestions, the next one the dialog.
  await expect(newDm.getByRole('option', { name: /bob/ })).toBeVisible();
  await alice!.keyboard.press('Escape');
  await expect(newDm.getByRole('listbox')).toHaveCount(0);
  await alice!.keyboard.press('Escape');
  await expect(newDm).toHaveCount(0);

  const results = alice!.getByRole('list', { name: 'Search results' });
  const person = alice!.getByRole('combobox', { name: 'From or with person' });
  await alice!.getByRole('searchbox', { name: 'Search messages' }).fill('hello');
  await person.fill('bob');
  await expect(results.getByRole('button')).toContainText('hello from bob');
  expect(await person.evaluate((input: HTMLInputElement) => [...(input.list?.options ?? [])].map((option) => option.value))).toEqual([
    'bob',
    'alice',
  ]);
  // Part of a name is enough: "bo" is bob.
  await person.fill('bo');
  await expect(alice!.getByText('From or with bob')).toBeVisible();
  await expect(results.getByRole('button')).toContainText('hello from bob');
  await person.fill('zed');
  await expect(alice!.getByRole('alert').filter({ hasText: 'There is no such user.' })).toBeVisible();
  await expect(results).toHaveCount(0);
});

test('emoji are drawn with the bundled colour emoji font', async () => {
  const alice = (await room('alice'))[0]!.page;
  await send(alice, 'party 🎉');
  const text = message(alice, 'party 🎉').getByText('party 🎉', { exact: true });
  await expect(text).toBeVisible();
  // The face is fetched when the emoji is first laid out; then the text is laid out again with it.
  await expect
    .poll(() => alice.evaluate(() => [...document.fonts].some((face) => face.family.includes('Noto Color Emoji') && face.status === 'loaded')))
    .toBe(true);
  const cdp = await alice.context().newCDPSession(alice);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  await text.evaluate((element) => element.setAttribute('data-font-probe', ''));
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '[data-font-probe]' });
  await expect
    .poll(async () => (await cdp.send('CSS.getPlatformFontsForNode', { nodeId })).fonts)
    .toContainEqual(expect.objectContaining({ familyName: 'Noto Color Emoji', isCustomFont: true }));
});
