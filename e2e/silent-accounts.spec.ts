/** Issue 10 item 2: the host lists the accounts a registration storm left and purges them, after confirming. */
import { ChatClient } from '../src-main/client/client.js';
import { expect, test } from './fixtures.js';
import { photographLooks, confirm, message, openRoomSettings, send } from './ui.js';

/** Registers an account over the wire and leaves at once, as a storm's scripts do. */
async function registerAndLeave(port: number, name: string): Promise<void> {
  const client = new ChatClient({ host: '127.0.0.1', port, name, password: `${name}-secret`, reconnect: false });
  await client.connect();
  client.close();
}

test('the host sees accounts that never wrote and purges them; writers and the online stay', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);
  await send(bob!, 'I was here');
  await expect(message(alice!, 'I was here')).toBeVisible();
  // Two, so that with bob, carol and the purged name registered again, the five new accounts per address
  // and minute the host allows are never passed, however fast the test runs.
  for (const name of ['junk1', 'junk2']) await registerAndLeave(port, name);

  const panel = await openRoomSettings(alice!);
  const silent = panel.getByRole('list', { name: 'Accounts that never wrote' });
  await panel.getByRole('button', { name: 'Refresh' }).click();
  await expect(silent.getByRole('listitem')).toHaveCount(2);
  // carol never wrote but is online; bob wrote; alice is the host.
  await expect(silent).not.toContainText(/alice|bob|carol/);
  await expect(panel.getByText('2 accounts never wrote and are offline.')).toBeVisible();

  await photographLooks(alice!, 'silent accounts', { show: () => silent.scrollIntoViewIfNeeded() });

  // Cancelled, nothing happens.
  await panel.getByRole('button', { name: 'Purge' }).click();
  await alice!.getByRole('alertdialog', { name: 'Delete 2 accounts that never wrote?' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(silent.getByRole('listitem')).toHaveCount(2);

  await panel.getByRole('button', { name: 'Purge' }).click();
  await confirm(alice!, 'Purge');
  await expect(panel.getByText('Deleted 2 accounts.')).toBeVisible();
  await expect(panel.getByText('Every account has written something, or is online now.')).toBeVisible();
  await expect(panel.getByRole('table', { name: 'Server log' })).toContainText('purge silent accounts');

  // The others carry on, and a purged name is free again.
  await send(carol!, 'still here');
  await expect(message(bob!, 'still here')).toBeVisible();
  await registerAndLeave(port, 'junk1');
});
