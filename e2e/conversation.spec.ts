import { expect, sharedRoom, test } from './fixtures.js';
import { message, send } from './ui.js';

// One room for the file (fixtures.ts): each test writes words no other one looks for.
const room = sharedRoom(['alice', 'bob', 'carol']);

test('links in messages open in a new tab without a referrer or opener; other schemes stay text', async () => {
  const [alice, bob] = (await room('alice', 'bob')).map((user) => user.page);

  await send(alice!, 'docs at https://example.org/guide?x=1 or mail help@example.org; not javascript:alert(1)');
  const row = message(bob!, 'docs at');
  const web = row.getByRole('link', { name: 'https://example.org/guide?x=1' });
  await expect(web).toHaveAttribute('href', 'https://example.org/guide?x=1');
  await expect(web).toHaveAttribute('target', '_blank');
  await expect(web).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(row.getByRole('link', { name: 'help@example.org' })).toHaveAttribute('href', 'mailto:help@example.org');
  await expect(row.getByRole('link')).toHaveCount(2);

  // Following it opens a new tab and fetches nothing in the app's own page (the tab's request is refused here).
  await bob!.context().route('https://example.org/**', (route) => route.abort());
  const [tab] = await Promise.all([bob!.context().waitForEvent('page'), web.click()]);
  expect(await tab.evaluate(() => window.opener)).toBeNull();
  await tab.close();
});

test('typing @ offers the conversation\'s people; a mention of you stands out', async () => {
  const [alice, bob] = (await room('alice', 'bob')).map((user) => user.page);

  const box = alice!.getByRole('textbox', { name: 'Message' });
  await box.fill('hi @');
  await box.press('End');
  const people = alice!.getByRole('listbox', { name: 'People to mention' });
  await expect(people.getByRole('option')).toHaveText([/bob$/, /carol$/]);
  await box.pressSequentially('c');
  await expect(people.getByRole('option')).toHaveText([/carol$/]);
  await box.press('Escape');
  await expect(people).toHaveCount(0);
  await box.fill('');
  await box.fill('hi @');
  await box.press('End');
  await box.press('ArrowDown');
  await expect(people.getByRole('option', { name: 'carol' })).toHaveAttribute('aria-selected', 'true');
  await box.press('ArrowUp');
  await box.press('Enter');
  await expect(box).toHaveValue('hi @bob ');
  await box.pressSequentially('look');
  await box.press('Enter');

  const row = message(bob!, 'hi @bob look');
  await expect(row.locator('.mention-me')).toHaveText('@bob');
  await expect(message(alice!, 'hi @bob look').locator('.mention')).not.toHaveClass(/mention-me/);
});

test('the emoji picker inserts at the caret', async () => {
  const alice = (await room('alice'))[0]!.page;

  const box = alice.getByRole('textbox', { name: 'Message' });
  await box.fill('good  morning');
  await box.evaluate((element: HTMLTextAreaElement) => element.setSelectionRange(5, 5));
  await alice.getByRole('button', { name: 'Insert emoji' }).click();
  const picker = alice.getByRole('dialog', { name: 'Emoji' });
  await picker.getByRole('textbox', { name: 'Search emoji' }).fill('sunrise');
  await picker.getByRole('gridcell', { name: 'sunrise', exact: true }).click();
  await expect(box).toHaveValue('good 🌅 morning');
  await expect(picker).toHaveCount(0);
  await expect(box).toBeFocused();

  await alice.getByRole('button', { name: 'Insert emoji' }).click();
  await expect(picker.getByRole('textbox', { name: 'Search emoji' })).toBeFocused();
  await alice.keyboard.press('Escape');
  await expect(picker).toHaveCount(0);
  await expect(alice.getByRole('button', { name: 'Insert emoji' })).toBeFocused();
});
