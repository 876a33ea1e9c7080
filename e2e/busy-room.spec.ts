/** A busy room: a reader at the newest message stays there while hundreds pour in. */
import { ChatClient } from '../src-main/client/client.js';
import { hashPassword } from '../src-main/server/password.js';
import { expect, test } from './fixtures.js';
import { seedAccounts } from './seed.js';
import { freePort, hostRoom, message, send } from './ui.js';

const SENDERS = ['s1', 's2', 's3', 's4'];
const EACH = 100;
const PASSWORD = 'a busy afternoon';

test('a reader at the newest message stays at the newest while a room floods in', async ({ shells }) => {
  const passwordHash = await hashPassword(PASSWORD);
  const [alice] = await shells(['alice'], (_name, profileDir) => seedAccounts(profileDir, SENDERS, passwordHash));
  const page = alice!.page;
  const port = await freePort();
  await hostRoom(page, { room: 'Lab', port, name: 'alice' });
  await send(page, 'quiet so far');
  const clients = SENDERS.map((name) => new ChatClient({ host: '127.0.0.1', port, name, password: PASSWORD, reconnect: false }));
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
    await expect(message(page, 'the last word')).toBeVisible();
    await expect(page.getByRole('button', { name: /unread/ })).toHaveCount(0);
  } finally {
    for (const client of clients) client.close();
  }
});
