/**
 * Bug 10 of issue 11: a muted user learns it from the composer before sending, sees when it
 * ends, and gets the composer back by itself; a message the host refused stays, marked
 * failed, with Retry and Remove.
 */
import { callApp } from './bridge.js';
import { expect, test } from './fixtures.js';
import { message, openRoomSettings, ownStatus, send } from './ui.js';
import { photograph } from './photos.js';

test('a muted user is told in the composer at once, until when, and writes again when it ends or is lifted', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  const box = bob!.page.getByRole('textbox', { name: 'Message' });
  const panel = await openRoomSettings(alice!.page);

  await panel.getByRole('button', { name: 'Mute bob' }).click();
  const notice = bob!.page.getByRole('status').filter({ hasText: 'You are muted by the host.' });
  await expect(notice).toBeVisible();
  await expect(box).toBeDisabled();
  await expect(box).toHaveAccessibleDescription('You are muted by the host.');
  await expect(bob!.page.getByRole('button', { name: 'Send' })).toBeDisabled();
  await photograph(bob!.page, 'muted composer');

  await panel.getByRole('button', { name: 'Unmute bob' }).click();
  await expect(notice).toHaveCount(0);
  await expect(box).toBeEnabled();

  // A mute of a few seconds (the panel offers none this short): its end shows, and then it ends by itself.
  expect(await callApp(alice!, 'hostAdmin', [{ kind: 'mute', user: 'bob', minutes: 0.1 }])).toMatchObject({ ok: true });
  await expect(bob!.page.getByRole('status').filter({ hasText: /^You are muted until \d\d:\d\d\.$/ })).toBeVisible();
  await expect(box).toBeDisabled();
  await expect(box).toBeEnabled({ timeout: 20_000 });
  await expect(bob!.page.getByRole('status').filter({ hasText: 'You are muted' })).toHaveCount(0);
  await send(bob!.page, 'free to talk again');
  await expect(message(alice!.page, 'free to talk again')).toBeVisible();
});

test('a message the host refused stays marked failed, with Retry and Remove', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  const panel = await openRoomSettings(alice!.page);
  await panel.getByRole('button', { name: 'Mute bob' }).click();
  await expect(bob!.page.getByRole('textbox', { name: 'Message' })).toBeDisabled();

  // Sent from another window of bob's app while muted: refused with MUTED.
  for (const text of ['first try', 'second try']) {
    expect(await callApp(bob!, 'send', [{ kind: 'room' }, text])).toMatchObject({ ok: true });
    await expect(ownStatus(bob!.page, text)).toHaveAccessibleName('Status: failed');
  }
  const first = message(bob!.page, 'first try');
  await expect(first).toContainText('The host muted you.');

  await panel.getByRole('button', { name: 'Unmute bob' }).click();
  await expect(bob!.page.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  await first.getByRole('button', { name: 'Retry' }).click();
  await expect(message(alice!.page, 'first try')).toBeVisible();
  await expect(ownStatus(bob!.page, 'first try')).toHaveAccessibleName('Status: delivered');
  await expect(message(bob!.page, 'first try')).toHaveCount(1);
  await expect(message(bob!.page, 'first try').getByRole('button', { name: 'Retry' })).toHaveCount(0);

  await message(bob!.page, 'second try').getByRole('button', { name: 'Remove' }).click();
  await expect(message(bob!.page, 'second try')).toHaveCount(0);
  await expect(message(alice!.page, 'second try')).toHaveCount(0);
});
