import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { expect, test } from './fixtures.js';
import { conversationLink, joinRoom, message, openConversation, roomPeople, send, startDirectChat } from './ui.js';

test('messages sent while a user is away reach them when they come back', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  // How many key packages of bob's devices the host holds: his app registers as an encryption device after
  // its login, and until it has, an encrypted DM to him cannot go (PROTOCOL §20.3) and fails at once.
  const bobsKeyPackages = (): number => {
    const db = new Database(join(users[0]!.home, 'alice', 'host', 'chat.sqlite'), { readonly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM mls_key_packages WHERE user_id = (SELECT id FROM users WHERE name = 'bob')").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  await send(bob!, 'back in five');
  await expect(message(alice!, 'back in five')).toBeVisible();
  // Away for a while, as a user of this app is: not in the seconds after a first sign-in, before it is one.
  await expect.poll(bobsKeyPackages).toBeGreaterThan(0);
  await bob!.getByRole('button', { name: 'Leave room' }).click();
  await expect(bob!.getByRole('tab', { name: 'Join room' })).toBeVisible();
  await expect(alice!.getByText('bob left')).toBeVisible();
  await expect((await roomPeople(alice!)).getByRole('button', { name: /^bob, offline/ })).toBeVisible();

  await send(alice!, 'room news while bob is out');
  await startDirectChat(alice!, 'bob');
  await send(alice!, 'a private note for later');

  await joinRoom(bob!, { port, name: 'bob' });
  await expect(message(bob!, 'room news while bob is out')).toHaveCount(1);
  await expect(bob!.getByRole('region', { name: 'Chat requests' })).toContainText('alice wants to chat');
  await expect(conversationLink(bob!, 'alice, 1 unread')).toBeVisible();
  await openConversation(bob!, 'alice');
  await expect(message(bob!, 'a private note for later')).toBeVisible();
  await expect(message(alice!, 'a private note for later').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
});
