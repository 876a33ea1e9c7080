import { expect, test } from './fixtures.js';
import { photographLooks, confirm, joinRoom } from './ui.js';

test('the settings list the hosts trusted on first use; one forgotten, or not trusted at the first connection, is a first connection again', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const bob = users[1]!.page;
  const server = `127.0.0.1:${port}`;
  const firstUse = bob.getByRole('region', { name: 'First connection to this host' });
  await expect(firstUse).toBeVisible();
  await bob.getByRole('button', { name: 'Trust', exact: true }).click();

  await bob.getByRole('button', { name: 'Settings' }).click();
  const settings = bob.getByRole('group', { name: 'Settings', exact: true });
  await settings.getByRole('button', { name: 'Trusted hosts (1)' }).click();
  const hosts = settings.getByRole('list', { name: 'Trusted hosts (1)' });
  await expect(hosts.getByRole('listitem')).toHaveCount(1);
  await expect(hosts.getByRole('listitem')).toContainText(server);
  // The fingerprint shown is the one the host shows in its room settings.
  const shown = (await hosts.locator('code').textContent())!;
  expect(shown).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await photographLooks(bob, 'trusted hosts');

  await settings.getByRole('button', { name: `Forget ${server}` }).click();
  await expect(bob.getByRole('alertdialog')).toContainText('compare its fingerprint');
  await confirm(bob, 'Forget');
  await expect(settings.getByText('None yet: a host you join appears here.')).toBeVisible();
  // The row and its button are gone: focus is on the list's toggle, not lost to the page.
  await expect(settings.getByRole('button', { name: 'Trusted hosts (0)' })).toBeFocused();

  await bob.keyboard.press('Escape');
  await bob.getByRole('button', { name: 'Leave room' }).click();
  await joinRoom(bob, { port, name: 'bob' });
  await expect(firstUse).toBeVisible();
  await expect(firstUse).toContainText(shown);

  // Cancel instead of Trust: signed out, and the host is not trusted, so the next join asks again.
  await firstUse.getByRole('button', { name: 'Cancel' }).click();
  await expect(bob.getByRole('tab', { name: 'Join room' })).toBeVisible();
  await bob.getByRole('button', { name: 'Settings' }).click();
  await expect(settings.getByRole('button', { name: 'Trusted hosts (0)' })).toBeVisible();
  await bob.keyboard.press('Escape');
  await joinRoom(bob, { port, name: 'bob' });
  await expect(firstUse).toBeVisible();
});
