import { expect, test } from './fixtures.js';
import { photographLooks, confirm, expectOnline, freePort, hostRoom, joinRoom, message, openRoomSettings, send, submitJoin } from './ui.js';

test('a room that needs the host’s approval lets a newcomer in once approved', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob] = (await shells(['alice', 'bob'])).map((user) => user.page);
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice', access: 'approval' });

  await submitJoin(bob!, { port, name: 'bob' });
  await expect(bob!.getByRole('alert')).toContainText('Your account waits for the host’s approval.');
  const panel = await openRoomSettings(alice!);
  await panel.getByRole('button', { name: 'Approve bob' }).click();
  await expect(panel.getByRole('button', { name: 'Approve bob' })).toHaveCount(0);

  // The waiting app asks again by itself and gets in.
  await expectOnline(bob!);
  await send(bob!, 'thanks for letting me in');
  await expect(message(alice!, 'thanks for letting me in')).toBeVisible();
});

test('the host mutes, kicks and bans from room settings, confirming each; each is explained to the user', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);
  const panel = await openRoomSettings(alice!);
  await expect(panel.getByRole('button', { name: 'Kick alice' })).toHaveCount(0);

  await panel.getByRole('button', { name: 'Mute bob' }).click();
  await expect(panel.getByRole('button', { name: 'Unmute bob' })).toBeVisible();
  await photographLooks(alice!, 'host panel');
  // bob is told at once (e2e/mute.spec.ts has the rest).
  await expect(bob!.getByRole('textbox', { name: 'Message' })).toBeDisabled();
  await expect(bob!.getByRole('status').filter({ hasText: 'You are muted by the host.' })).toBeVisible();
  await panel.getByRole('button', { name: 'Unmute bob' }).click();
  await send(bob!, 'back on air');
  await expect(message(carol!, 'back on air')).toBeVisible();

  await panel.getByRole('button', { name: 'Kick bob' }).click();
  await confirm(alice!, 'Kick');
  await expect(bob!.getByRole('alert')).toContainText('The host disconnected you.');
  await joinRoom(bob!, { port, name: 'bob' });

  // Cancelled, nothing happens.
  await panel.getByRole('button', { name: 'Ban bob' }).click();
  await alice!.getByRole('alertdialog', { name: 'Ban bob?' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(panel.getByRole('button', { name: 'Ban bob' })).toBeFocused();
  await expectOnline(bob!);
  await panel.getByRole('button', { name: 'Ban bob' }).click();
  await confirm(alice!, 'Ban');
  await expect(bob!.getByRole('alert')).toContainText('The host banned you from this room.');
  await submitJoin(bob!, { port, name: 'bob' });
  await expect(bob!.getByRole('alert')).toContainText('The host banned you from this room.');
  await expect(panel.getByRole('table', { name: 'Server log' })).toContainText('ban');

  await panel.getByRole('button', { name: 'Unban bob' }).click();
  await joinRoom(bob!, { port, name: 'bob' });
  await expectOnline(carol!);
});
