/**
 * A room of hundreds: its people open at once in the room's details, online first, in the order
 * people count (user2 before user10), and one is found by typing part of a name.
 */
import { expect, test } from './fixtures.js';
import { photograph } from './photos.js';
import { hostWithAccounts } from './seed.js';
import { photographLooks, openRoomSettings, roomPeople } from './ui.js';

const PEOPLE = 300;

test('the people of a room of hundreds: a window of them at a time, online first, found by name', async ({ shells }) => {
  const names = [...Array.from({ length: PEOPLE }, (_, index) => `user${index}`), 'zed'];
  const { page, client } = await hostWithAccounts(shells, names);
  const zed = client('zed');
  try {
    await zed.connect();
    const people = await roomPeople(page);
    const rows = people.getByRole('listitem');
    const row = (index: number) => rows.nth(index).getByRole('button');
    // The one online comes first, then the rest by name as people count.
    await expect(row(0)).toHaveAccessibleName('zed, online');
    await expect(row(1)).toHaveAccessibleName('user0, offline');
    await expect(row(3)).toHaveAccessibleName('user2, offline');
    // Only a window of the 301 is in the page, and each row says where it stands among them.
    expect(await rows.count()).toBeLessThan(60);
    await expect(rows.first()).toHaveAttribute('aria-setsize', String(PEOPLE + 1));

    const find = page.getByRole('searchbox', { name: 'Find a person' });
    await find.fill('USER29');
    await expect(rows).toHaveCount(11);
    await expect(row(0)).toHaveAccessibleName('user29, offline');
    await expect(row(1)).toHaveAccessibleName('user290, offline');
    await photographLooks(page, 'people found');

    await find.fill('nobody like this');
    await expect(rows).toHaveCount(0);
    await expect(page.getByText('No one here by that name.')).toBeVisible();
    await find.fill('');
    await expect(row(0)).toHaveAccessibleName('zed, online');

    // The last of them is reached by scrolling the list.
    await rows.first().hover();
    for (let scrolls = 0; scrolls < 200 && (await people.getByRole('button', { name: 'user299, offline' }).count()) === 0; scrolls += 1) {
      await page.mouse.wheel(0, 2000);
    }
    await expect(people.getByRole('button', { name: 'user299, offline' })).toBeVisible();

    // The host's lists too: the 300 that never wrote are listed (the first 100) a window at a time, and found by name.
    const panel = await openRoomSettings(page);
    const silent = panel.getByRole('list', { name: 'Accounts that never wrote' });
    await expect(silent.getByRole('listitem').first()).toHaveAttribute('aria-setsize', '100');
    expect(await silent.getByRole('listitem').count()).toBeLessThan(40);
    await panel.getByRole('searchbox', { name: 'Find in Accounts that never wrote' }).fill('user1');
    await expect(silent.getByRole('listitem').first()).toContainText(/^user1/);
    for (const item of await silent.getByRole('listitem').all()) await expect(item).toContainText(/^user1/);
    await photograph(page, 'host lists found');
  } finally {
    zed.close();
  }
});
