/**
 * Regressions from issue 11 around entering a room: the start screen's tab and errors,
 * pasted addresses, the changed-certificate path, how a closed room and a wrong password
 * are worded, and a console free of CSP warnings.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { PASSWORD, expectOnline, freePort, hostRoom, openRoomSettings, securityBadge, stopHosting, submitJoin } from './ui.js';

const tab = (page: Page, name: 'Host room' | 'Join room') => page.getByRole('tab', { name });
const panel = (page: Page) => page.getByRole('tabpanel');

/** Pastes text into a field the way a browser does: one paste event carrying the clipboard's text. */
async function paste(page: Page, label: string, text: string) {
  const field = page.getByRole('textbox', { name: label, exact: true });
  await field.selectText();
  await field.evaluate((input, pasted) => {
    const data = new DataTransfer();
    data.setData('text/plain', pasted);
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

test('the start screen opens on the tab last used, keeps errors under their own form and splits a pasted address', async ({
  room,
  shells,
}) => {
  const { port, users } = await room(['alice', 'bob']);
  const bob = users[1]!.page;
  const [carol] = await shells(['carol']);

  // A new profile starts on Join, as most people join; someone who joined comes back to Join.
  await expect(tab(carol!.page, 'Join room')).toHaveAttribute('aria-selected', 'true');
  await bob.getByRole('button', { name: 'Leave room' }).click();
  await expect(tab(bob, 'Join room')).toHaveAttribute('aria-selected', 'true');
  await tab(bob, 'Host room').click();
  await bob.reload();
  await expect(tab(bob, 'Join room')).toHaveAttribute('aria-selected', 'true');

  // "Copy address" gives host:port; pasted into Host, it fills both fields, for IPv6 too.
  await paste(bob, 'Host', `[fe80::1]:${port}`);
  await expect(bob.getByRole('textbox', { name: 'Host', exact: true })).toHaveValue('fe80::1');
  await expect(bob.getByRole('textbox', { name: 'Port' })).toHaveValue(String(port));
  await bob.getByRole('textbox', { name: 'Port' }).fill('1');
  await paste(bob, 'Host', `127.0.0.1:${port}`);
  await expect(bob.getByRole('textbox', { name: 'Host', exact: true })).toHaveValue('127.0.0.1');
  await expect(bob.getByRole('textbox', { name: 'Port' })).toHaveValue(String(port));

  // A join error stays with the Join form: not on the Host tab, back when Join is shown again.
  await bob.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await bob.getByLabel('Password', { exact: true }).fill('not bobs password');
  await bob.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(panel(bob).getByRole('alert')).toBeVisible();
  await tab(bob, 'Host room').click();
  await expect(panel(bob).getByRole('textbox', { name: 'Room name' })).toBeVisible();
  await expect(panel(bob).getByRole('alert')).toHaveCount(0);
  await tab(bob, 'Join room').click();
  await expect(panel(bob).getByRole('alert')).toBeVisible();

  // A typed host:port works as well as a pasted one.
  await bob.getByRole('textbox', { name: 'Host', exact: true }).fill(`127.0.0.1:${port}`);
  await bob.getByRole('textbox', { name: 'Port' }).fill('1');
  await bob.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await bob.getByRole('button', { name: 'Join', exact: true }).click();
  await expectOnline(bob);
});

test('a room on several machines is joined from a list of addresses while the first is down, and the list is remembered', async ({ room, shells }) => {
  const { port } = await room(['alice']);
  const [bob] = await shells(['bob']);
  const page = bob!.page;
  const down = await freePort();
  const host = page.getByRole('textbox', { name: 'Host', exact: true });
  await expect(host).toHaveAccessibleDescription(/addresses, separated by commas/);
  await host.fill(`127.0.0.1:${down}, 127.0.0.1:${port}`);
  await page.getByRole('textbox', { name: 'Port' }).fill('1');
  await page.getByRole('textbox', { name: 'Your name' }).fill('bob');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expectOnline(page);

  await page.getByRole('button', { name: 'Leave room' }).click();
  await expect(host).toHaveValue(`127.0.0.1:${down}, 127.0.0.1:${port}`);
});

test('a changed certificate after a disconnect is shown on Join, and trusting it joins (no first-use note)', async ({ room, shells }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  const [mallory] = await shells(['mallory']);

  // Stopping the room is told as such to those in it, not as a host that vanished.
  await stopHosting(alice!);
  await expect(bob!.getByText('The host closed the room. Reconnecting automatically.')).toBeVisible();

  // Another certificate answers on the same port when bob's app reconnects.
  await hostRoom(mallory!.page, { room: 'Other', port, name: 'mallory' });
  const warning = bob!.getByRole('alert', { name: 'The host’s identity has changed' });
  await expect(warning).toBeVisible();
  await expect(tab(bob!, 'Join room')).toHaveAttribute('aria-selected', 'true');
  await expect(panel(bob!).getByRole('alert', { name: 'The host’s identity has changed' })).toBeVisible();
  await tab(bob!, 'Host room').click();
  await expect(warning).toHaveCount(0);
  await tab(bob!, 'Join room').click();

  // bob's saved session belongs to the old room: he gives his password, then trusts.
  await bob!.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await warning.getByRole('button', { name: 'Trust new fingerprint' }).click();
  await expectOnline(bob!);
  await expect(securityBadge(bob!)).toHaveText('Encrypted to the host');
  await expect(bob!.getByRole('button', { name: 'Stop hosting' })).toHaveCount(0);
  await expect(bob!.getByText('First connection to this host')).toHaveCount(0);
});

test('errors are one sentence in the UI language; someone else’s name asks for a new name', async ({ room, shells }) => {
  const { port } = await room(['alice']);
  const [mallory] = await shells(['mallory']);
  const page = mallory!.page;

  await submitJoin(page, { port, name: 'alice', password: 'not alices password' });
  const alert = panel(page).getByRole('alert');
  await expect(alert).toHaveText(
    'Wrong password. If this name is not yours, it belongs to someone else’s account: choose a new name to create your own.',
  );
  // The host's own words stay available, as a tooltip.
  await expect(alert).toHaveAttribute('title', /alice/);

  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('combobox', { name: 'Language' }).selectOption('tr');
  await page.keyboard.press('Escape');
  await page.getByRole('tab', { name: 'Odaya katıl' }).click();
  await page.getByRole('textbox', { name: 'Port' }).fill(String(await freePort()));
  await page.getByRole('button', { name: 'Katıl', exact: true }).click();
  await expect(alert).toHaveText('Sunucuya bağlanılamadı.');
});

test('in an approval room the waiting user is let in once approved, and told when rejected', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob, carol] = (await shells(['alice', 'bob', 'carol'])).map((user) => user.page);
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice', access: 'approval' });

  await submitJoin(bob!, { port, name: 'bob' });
  await expect(panel(bob!).getByRole('alert')).toContainText('LanChat lets you in as soon as the host approves.');
  await submitJoin(carol!, { port, name: 'carol' });
  await expect(panel(carol!).getByRole('alert')).toContainText('Your account waits for the host’s approval.');

  // Nobody clicks Join again: the waiting apps find out by themselves.
  const hostPanel = await openRoomSettings(alice!);
  await hostPanel.getByRole('button', { name: 'Approve bob' }).click();
  await expectOnline(bob!);
  await hostPanel.getByRole('button', { name: 'Reject carol' }).click();
  await expect(panel(carol!).getByRole('alert')).toHaveText('The host did not accept your account.');
  // The rejected name was not requested again behind the host's back.
  await expect(hostPanel.getByRole('button', { name: 'Approve carol' })).toHaveCount(0);
});

test('the page loads without CSP warnings in the console', async ({ shells }) => {
  const [user] = await shells(['alice']);
  const warnings: string[] = [];
  user!.page.on('console', (entry) => {
    if (entry.type() === 'warning' || entry.type() === 'error') warnings.push(entry.text());
  });
  await user!.page.reload();
  await expect(tab(user!.page, 'Join room')).toBeVisible();
  expect(warnings.filter((text) => /Content Security Policy|frame-ancestors/i.test(text))).toEqual([]);
});
