import { expect, test } from './fixtures.js';
import { expectOnline, message, openRoomSettings, roomPeople, send } from './ui.js';
import { photograph } from './photos.js';

test('one user hosts, two join, and the room chat is seen by all', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);

  const hostPanel = await openRoomSettings(alice!);
  await expect(
    hostPanel.getByRole('list', { name: 'Addresses to share' }).getByRole('button', { name: new RegExp(`^Copy .+:${port}$`) }).first(),
  ).toBeVisible();
  await expect(hostPanel.getByRole('list', { name: 'Connected users' })).toContainText('carol');
  await expect(hostPanel.getByRole('table', { name: 'Server log' })).toContainText('carol');

  await send(bob!, 'hello from bob');
  await send(carol!, 'carol here');
  for (const page of [alice!, bob!, carol!]) {
    await expect(message(page, 'hello from bob')).toContainText('bob');
    await expect(message(page, 'carol here')).toContainText('carol');
    await expectOnline(page);
  }
  await expect(alice!.getByText('carol joined')).toBeVisible();

  // Shift+Enter starts a new line; Enter sends both lines as one message.
  const composer = carol!.getByRole('textbox', { name: 'Message' });
  await composer.pressSequentially('first line');
  await composer.press('Shift+Enter');
  await composer.pressSequentially('second line');
  await composer.press('Enter');
  await expect(message(alice!, 'first line')).toHaveText(/first line\nsecond line/);
  await expect(message(bob!, 'hello from bob').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
  await expect((await roomPeople(alice!)).getByRole('button', { name: 'bob, online' })).toBeVisible();

  await photograph(alice!, 'host main window');
  await photograph(bob!, 'joined main window');
});
