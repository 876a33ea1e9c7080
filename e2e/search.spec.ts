import { expect, test } from './fixtures.js';
import { message, send } from './ui.js';
import { photograph } from './photos.js';

test('search finds part of a word, Turkish case and one letter, filters by person, and opens the hit', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);

  await send(bob!, 'the elephant is grey');
  await send(alice!, 'İSTANBUL trip in May');
  for (let index = 0; index < 30; index += 1) await send(bob!, `filler ${index}`);
  await expect(message(alice!, 'filler 29')).toBeVisible();

  const searchBox = alice!.getByRole('searchbox', { name: 'Search messages' });
  const results = alice!.getByRole('list', { name: 'Search results' });
  await searchBox.fill('phan');
  await expect(results.getByRole('button')).toHaveCount(1);
  await expect(results.getByRole('button')).toContainText('the elephant is grey');
  await photograph(alice!, 'search results');

  await searchBox.fill('istanbul');
  await expect(results.getByRole('button')).toContainText('İSTANBUL trip in May');

  // By person: the same words, only from (or with) the named person.
  await searchBox.fill('trip');
  const person = alice!.getByRole('combobox', { name: 'From or with person' });
  await person.fill('bob');
  await expect(alice!.getByText('No messages found.')).toBeVisible();
  await person.fill('alice');
  await expect(results.getByRole('button')).toHaveCount(1);
  await searchBox.fill('');
  await person.fill('bob');
  await expect(results.getByRole('button').first()).toContainText('filler 29');

  // One letter, then opening a hit scrolled out of view highlights it in its conversation.
  await person.fill('');
  await searchBox.fill('y');
  await expect(results.getByRole('button')).toHaveCount(2);
  await results.getByRole('button').filter({ hasText: 'elephant' }).click();
  await expect(message(alice!, 'the elephant is grey')).toHaveAttribute('aria-current', 'true');
  await expect(message(alice!, 'the elephant is grey')).toBeInViewport();
});
