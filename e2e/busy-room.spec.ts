/**
 * A busy room: a reader at the newest message stays there while hundreds pour in, and the client
 * holds only the newest of them, paging the rest back in when asked.
 */
import { expect, test } from './fixtures.js';
import { hostWithAccounts } from './seed.js';
import { message, send } from './ui.js';

const SENDERS = ['s1', 's2', 's3', 's4'];
const EACH = 175;

test('a reader at the newest message stays at the newest while a room floods in', async ({ shells }) => {
  // 701 messages in, then the whole room scrolled back a wheel turn at a time: beside another worker on two
  // cores that alone took over the default 90 s.
  test.setTimeout(240_000);
  const { page, client } = await hostWithAccounts(shells, SENDERS);
  await send(page, 'quiet so far');
  const clients = SENDERS.map(client);
  try {
    await Promise.all(clients.map((client) => client.connect()));
    await Promise.all(
      clients.map((client, sender) =>
        Promise.all(
          Array.from({ length: EACH }, (_, index) =>
            // Some rows wrap: measured taller than estimated, as real messages are.
            client.send({ kind: 'room' }, `${SENDERS[sender]} says ${index}${index % 7 === 0 ? ', with a longer line that wraps in a narrow window and makes its row taller than most' : ''}`),
          ),
        ),
      ),
    );
    await clients[0]!.send({ kind: 'room' }, 'the last word');
    // The window shows 701 messages as they come: on a loaded 2-core machine that took over the default 15 s.
    await expect(message(page, 'the last word')).toBeVisible({ timeout: 90_000 });
    await expect(page.getByRole('button', { name: /unread/ })).toHaveCount(0);

    // 700 came: only the newest are held, and the start of the room comes back from the host as the reader scrolls up.
    await expect(page.getByRole('button', { name: 'Load older messages' })).toBeVisible();
    await page.getByRole('log', { name: 'Messages' }).hover();
    for (let scrolls = 0; scrolls < 300 && (await message(page, 'quiet so far').count()) === 0; scrolls += 1) {
      await page.mouse.wheel(0, -1500);
      await page.waitForTimeout(50);
    }
    await expect(message(page, 'quiet so far')).toBeVisible();
  } finally {
    for (const client of clients) client.close();
  }
});
