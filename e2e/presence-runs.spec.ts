/**
 * Many people coming back at once (a host's restart, the morning's logins) show in the room as one
 * line that sums them up, with each join and leave on demand, instead of a line a person.
 */
import { expect, test } from './fixtures.js';
import { photograph } from './photos.js';
import { hostWithAccounts } from './seed.js';
import { photographLooks, message, send } from './ui.js';

const PEOPLE = ['ann', 'bob', 'cem', 'dan', 'eve', 'fay'];

test('a crowd that joins at once is one line in the room, opened on demand', async ({ shells }) => {
  const { page, client } = await hostWithAccounts(shells, PEOPLE);
  await send(page, 'morning, everyone');

  const clients = PEOPLE.map(client);
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const room = page.getByRole('log', { name: 'Messages' });
    const line = room.getByText(/^\w+, \w+ and 4 others joined/);
    await expect(line).toBeVisible();
    for (const name of PEOPLE) await expect(room.getByText(`${name} joined`)).toHaveCount(0);

    const show = room.getByRole('button', { name: 'Show all 6 changes' });
    await expect(show).toHaveAttribute('aria-expanded', 'false');
    await show.click();
    const list = room.getByRole('list', { name: 'Who joined and left' });
    await expect(list.getByRole('listitem')).toHaveCount(6);
    for (const name of PEOPLE) await expect(list.getByText(`${name} joined`)).toBeVisible();
    await photographLooks(page, 'joins opened');
    await room.getByRole('button', { name: 'Hide' }).click();
    await expect(list).toHaveCount(0);

    // Three leave: the same line now says who came and went.
    for (const client of clients.slice(0, 3)) client.close();
    await expect(room.getByText(/^\w+, \w+ and \w+ joined · \w+, \w+ and \w+ joined and left/)).toBeVisible();
    await expect(room.getByRole('button', { name: 'Show all 9 changes' })).toBeVisible();
    await photograph(page, 'joins and leaves');

    // A message ends the run: what comes after it starts a line of its own.
    await send(page, 'who is still here?');
    await expect(message(page, 'who is still here?')).toBeVisible();
    clients[3]!.close();
    await expect(room.getByText('dan left')).toBeVisible();
  } finally {
    for (const client of clients) client.close();
  }
});
