/**
 * Automatic sign-in, with real browser-shell processes restarted on their profile folder:
 * the app comes back in the room it was in, a host's app restarts her room (and says so),
 * leaving keeps the room for the next start, and signing out is what makes it forget.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { photograph } from './photos.js';
import { type ShellUser, startShell } from './shell.js';
import { PASSWORD, expectOnline, message, openRoomSettings, send } from './ui.js';

const restarted: ShellUser[] = [];
test.afterEach(async () => {
  await Promise.all(restarted.splice(0).map((user) => user.stop()));
});

/** Quits the user's app and starts it again on the same profile. */
async function restart(browser: Browser, user: ShellUser): Promise<ShellUser> {
  await user.stop();
  const again = await startShell(browser, user.name, undefined, user.home);
  restarted.push(again);
  return again;
}

test('a restarted app is back in its room at once, and a restarted host’s app hosts it again and offers to stop', async ({ room, browser }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  await send(bob!.page, 'said before the restart');
  await expect(message(alice!.page, 'said before the restart')).toBeVisible();

  // bob's app restarts: no form, no password; the room and its messages are there.
  const bob2 = await restart(browser, bob!);
  await expect(message(bob2.page, 'said before the restart')).toBeVisible();
  await expectOnline(bob2.page);
  await expect(bob2.page.getByRole('tab', { name: 'Join room' })).toHaveCount(0);
  await send(bob2.page, 'said after the restart');
  await expect(message(alice!.page, 'said after the restart')).toBeVisible();
  const profileFiles = ['room.json', 'session.json', 'snapshot.json'].map((file) => join(bob2.home, 'bob', file));
  for (const file of profileFiles) expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD);

  // alice's app restarts: her room runs again on its port, and she is told so.
  const alice2 = await restart(browser, alice!);
  await expect(bob2.page.getByRole('status').filter({ hasText: /Reconnecting|Online/ })).toBeVisible();
  const notice = alice2.page.getByRole('region', { name: 'Room restarted' });
  await expect(notice).toContainText(`LanChat started your room Lab again on port ${port}`);
  await expectOnline(alice2.page);
  await expect(message(alice2.page, 'said after the restart')).toBeVisible();
  await expectOnline(bob2.page);
  await send(bob2.page, 'the room is back');
  await expect(message(alice2.page, 'the room is back')).toBeVisible();
  await photograph(alice2.page, 'room restarted notice');
  await alice2.page.emulateMedia({ colorScheme: 'dark' });
  await alice2.page.setViewportSize({ width: 720, height: 640 });
  await photograph(alice2.page, 'room restarted notice, dark, narrow');

  // Stop asks first; Cancel (or Escape) changes nothing.
  await notice.getByRole('button', { name: 'Stop hosting' }).click();
  const dialog = alice2.page.getByRole('alertdialog', { name: 'Stop hosting?' });
  await expect(dialog).toContainText('Everyone in Lab is disconnected until you host it again.');
  await alice2.page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(notice.getByRole('button', { name: 'Stop hosting' })).toBeFocused();
  await notice.getByRole('button', { name: 'Stop hosting' }).click();
  await dialog.getByRole('button', { name: 'Stop hosting' }).click();
  await expect(alice2.page.getByRole('tab', { name: 'Host room' })).toBeVisible();
  await expect(bob2.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  // Stopped for good: the next start does not bring it back.
  await expect.poll(() => existsSync(join(alice2.home, 'alice', 'room.json'))).toBe(false);
});

test('a host who leaves is asked to stop hosting; a user who leaves is back at the next start, one who signs out is not', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  const leave = alice!.page.getByRole('button', { name: 'Leave room' });

  await leave.click();
  const dialog = alice!.page.getByRole('alertdialog', { name: 'Stop hosting and leave?' });
  await expect(dialog).toContainText('You are hosting Lab. Leaving stops the room');
  await photograph(alice!.page, 'leave while hosting');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(leave).toBeFocused();
  await expectOnline(alice!.page);

  await alice!.page.emulateMedia({ colorScheme: 'dark' });
  await alice!.page.setViewportSize({ width: 720, height: 640 });
  await leave.click();
  await photograph(alice!.page, 'leave while hosting, dark, narrow');
  await dialog.getByRole('button', { name: 'Stop hosting and leave' }).click();
  await expect(alice!.page.getByRole('tab', { name: 'Host room' })).toBeVisible();
  // The room stopped with her: bob lost it, and nobody is left in a room she cannot reach.
  await expect(bob!.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  const alice2 = await restart(browser, alice!);
  await expect(alice2.page.getByRole('tab', { name: 'Host room' })).toBeVisible();
  await alice2.page.getByRole('button', { name: 'Start hosting' }).click();
  await expectOnline(alice2.page);
  await expectOnline(bob!.page);

  // bob leaves without signing out: told so, and back in the room at his next start.
  await bob!.page.getByRole('button', { name: 'Leave room' }).click();
  await expect(bob!.page.getByRole('dialog')).toHaveCount(0);
  await expect(bob!.page.getByRole('status').filter({ hasText: 'You left Lab.' })).toContainText('joins it again when it starts');
  const bob2 = await restart(browser, bob!);
  await expectOnline(bob2.page);
  await expect(bob2.page.getByRole('tab', { name: 'Join room' })).toHaveCount(0);

  // Sign out: a control of its own, in the settings; the next start is the start screen, with nothing saved.
  await bob2.page.getByRole('button', { name: 'Settings', exact: true }).click();
  await bob2.page.getByRole('group', { name: 'Settings' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(bob2.page.getByRole('status').filter({ hasText: 'You signed out of Lab.' })).toBeVisible();
  await photograph(bob2.page, 'signed out');
  const bob3 = await restart(browser, bob2);
  await expect(bob3.page.getByRole('tab', { name: 'Join room' })).toBeVisible();
  await expect.poll(() => existsSync(join(bob3.home, 'bob', 'room.json'))).toBe(false);
  expect(JSON.parse(readFileSync(join(bob3.home, 'bob', 'session.json'), 'utf8'))).toEqual({});
});

test('after leaving, the start screen signs out as well, and a host signing out is asked to stop her room', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  await bob!.page.getByRole('button', { name: 'Leave room' }).click();
  const note = bob!.page.getByRole('status').filter({ hasText: 'You left Lab.' });
  await note.getByRole('button', { name: 'Sign out' }).click();
  await expect(bob!.page.getByRole('status').filter({ hasText: 'You signed out of Lab.' })).toBeVisible();
  const bob2 = await restart(browser, bob!);
  await expect(bob2.page.getByRole('tab', { name: 'Join room' })).toBeVisible();
  expect(JSON.parse(readFileSync(join(bob2.home, 'bob', 'session.json'), 'utf8'))).toEqual({});

  await alice!.page.getByRole('button', { name: 'Settings', exact: true }).click();
  await alice!.page.getByRole('button', { name: 'Sign out' }).click();
  const dialog = alice!.page.getByRole('alertdialog', { name: 'Stop hosting and sign out?' });
  await dialog.getByRole('button', { name: 'Stop hosting and sign out' }).click();
  await expect(alice!.page.getByRole('status').filter({ hasText: 'You signed out of Lab.' })).toBeVisible();
  const alice2 = await restart(browser, alice!);
  await expect(alice2.page.getByRole('tab', { name: 'Host room' })).toBeVisible();
});

test('an app whose saved session was ended meanwhile opens on the start screen and says why', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  await bob!.stop();
  // While bob's app is closed, the host resets his password: his saved session ends with it.
  const reset = (await openRoomSettings(alice!.page)).getByRole('form', { name: 'Reset a password' });
  await reset.getByRole('textbox', { name: 'User name' }).fill('bob');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await expect(reset).toContainText('New password for bob');

  const bob2 = await restart(browser, bob!);
  await expect(bob2.page.getByText('Your session has ended; join again with your password.')).toBeVisible();
  await expect(bob2.page.getByRole('button', { name: 'Leave room' })).toHaveCount(0);
  await expect.poll(() => existsSync(join(bob2.home, 'bob', 'room.json'))).toBe(false);
});

test('an app that starts while its host is down shows the conversations it saw last and joins when the host is back', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  await send(alice!.page, 'last word before the break');
  await expect(message(bob!.page, 'last word before the break')).toBeVisible();
  await alice!.stop();
  await expect(bob!.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();

  // Only what bob's profile holds can show this: the host is not there.
  const bob2 = await restart(browser, bob!);
  await expect(bob2.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  await expect(message(bob2.page, 'last word before the break')).toBeVisible();
  await photograph(bob2.page, 'waiting for the host');

  const alice2 = await restart(browser, alice!);
  await expectOnline(alice2.page);
  await expectOnline(bob2.page);
  await send(alice2.page, 'back again');
  await expect(message(bob2.page, 'back again')).toBeVisible();
});
