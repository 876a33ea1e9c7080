import { expect, test } from './fixtures.js';
import { message, send } from './ui.js';
import { photograph } from './photos.js';

test('a popped-out chat window stays in sync with the main window', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;

  const opened = alice!.context.waitForEvent('page');
  await alice!.page.getByRole('button', { name: 'Open in new window' }).click();
  const chatWindow = await opened;
  await expect(chatWindow.getByRole('main', { name: 'Lab' })).toBeVisible();

  await send(bob!.page, 'to both windows');
  await expect(message(chatWindow, 'to both windows')).toBeVisible();
  await expect(message(alice!.page, 'to both windows')).toBeVisible();

  await send(chatWindow, 'sent from the chat window');
  await expect(message(alice!.page, 'sent from the chat window').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
  await expect(message(bob!.page, 'sent from the chat window')).toHaveCount(1);
  await expect(message(chatWindow, 'sent from the chat window')).toHaveCount(1);
  await photograph(chatWindow, 'chat window');
});
