import { expect, test } from './fixtures.js';
import { expectOnline, freePort, hostRoom, joinRoom, message, send, submitJoin } from './ui.js';

test('a room that needs the host’s approval lets a newcomer in once approved', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob] = (await shells(['alice', 'bob'])).map((user) => user.page);
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice', access: 'approval' });

  await submitJoin(bob!, { port, name: 'bob' });
  await expect(bob!.getByRole('alert')).toContainText('Your account waits for the host’s approval.');
  const panel = alice!.getByRole('region', { name: 'Host panel' });
  await panel.getByRole('button', { name: 'Approve bob' }).click();
  await expect(panel.getByRole('button', { name: 'Approve bob' })).toHaveCount(0);

  // The waiting app asks again by itself and gets in.
  await expectOnline(bob!);
  await send(bob!, 'thanks for letting me in');
  await expect(message(alice!, 'thanks for letting me in')).toBeVisible();
});

test('the host mutes, kicks and bans from the host panel; each is explained to the user', async ({ room }, testInfo) => {
  const { port, users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);
  const panel = alice!.getByRole('region', { name: 'Host panel' });
  // Banning asks first.
  alice!.on('dialog', (dialog) => void dialog.accept());
  await expect(panel.getByRole('button', { name: 'Kick alice' })).toHaveCount(0);

  await panel.getByRole('button', { name: 'Mute bob' }).click();
  await expect(panel.getByRole('button', { name: 'Unmute bob' })).toBeVisible();
  await send(bob!, 'can anyone hear me');
  await expect(message(bob!, 'can anyone hear me')).toContainText('The host muted you.');
  await expect(message(carol!, 'can anyone hear me')).toHaveCount(0);
  await panel.getByRole('button', { name: 'Unmute bob' }).click();
  await send(bob!, 'back on air');
  await expect(message(carol!, 'back on air')).toBeVisible();
  await testInfo.attach('host panel', { body: await alice!.screenshot(), contentType: 'image/png' });

  await panel.getByRole('button', { name: 'Kick bob' }).click();
  await expect(bob!.getByRole('alert')).toContainText('The host disconnected you.');
  await joinRoom(bob!, { port, name: 'bob' });

  await panel.getByRole('button', { name: 'Ban bob' }).click();
  await expect(bob!.getByRole('alert')).toContainText('The host banned you from this room.');
  await submitJoin(bob!, { port, name: 'bob' });
  await expect(bob!.getByRole('alert')).toContainText('The host banned you from this room.');
  await expect(panel.getByRole('list', { name: 'Server log' }).or(panel.getByRole('log', { name: 'Server log' }))).toContainText('ban');

  await panel.getByRole('button', { name: 'Unban bob' }).click();
  await joinRoom(bob!, { port, name: 'bob' });
  await expectOnline(carol!);
});
