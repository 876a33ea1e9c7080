/**
 * Regressions from issue 11 about what a window knows when it starts late: your own
 * messages stay "delivered" after a new login and in a pop-out window, and the first-use
 * fingerprint note once acknowledged does not come back in a pop-out window.
 */
import { expect, test } from './fixtures.js';
import { joinRoom, ownStatus, send } from './ui.js';

test('own messages stay delivered after leaving and joining again', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const bob = users[1]!.page;
  await send(bob, 'did this arrive?');
  await expect(ownStatus(bob, 'did this arrive?')).toHaveAccessibleName('Status: delivered');

  await bob.getByRole('button', { name: 'Leave room' }).click();
  await joinRoom(bob, { port, name: 'bob' });
  await expect(ownStatus(bob, 'did this arrive?')).toHaveAccessibleName('Status: delivered');
});

test('a pop-out window shows delivery as the main window does and keeps the acknowledged fingerprint note away', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const bob = users[1]!;
  const note = (page: typeof bob.page) => page.getByRole('region', { name: 'First connection to this host' });

  await send(bob.page, 'seen everywhere');
  await expect(ownStatus(bob.page, 'seen everywhere')).toHaveAccessibleName('Status: delivered');
  await bob.page.getByRole('button', { name: 'Trust', exact: true }).click();
  await expect(note(bob.page)).toHaveCount(0);

  const opened = bob.context.waitForEvent('page');
  await bob.page.getByRole('button', { name: 'Open in new window' }).click();
  const chatWindow = await opened;
  await expect(chatWindow.getByRole('main', { name: 'Lab' })).toBeVisible();
  await expect(ownStatus(chatWindow, 'seen everywhere')).toHaveAccessibleName('Status: delivered');
  await expect(chatWindow.getByRole('status', { name: 'Connection security' })).toHaveText('Encrypted to the host');
  await expect(note(chatWindow)).toHaveCount(0);
});
