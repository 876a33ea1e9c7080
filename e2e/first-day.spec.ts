/**
 * Issue 38's stumbles of the first day: the people picker, the keyboard (composer focus, drafts, one tab
 * stop for the messages' toolbars), and the small things a first file, a first group and signing out show.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { captionAndSend, dropFiles } from './files-ui.js';
import { expect, test } from './fixtures.js';
import { answerInvitation, photographLooks, confirm, conversationLink, message, messages, newChat, openConversation, openDetails, send } from './ui.js';

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });

test('people are found by part of a name and picked by keyboard; a conversation opened from the list takes the typing; the messages are one tab stop', async ({
  room,
}, testInfo) => {
  const { users } = await room(['alice', 'ayla', 'ipek']);
  const [alice, ipek] = [users[0]!.page, users[2]!.page];

  // Two joined after alice, one signs out: a run of three in the room, its "Show all" link readable (axe, light and dark).
  await ipek.getByRole('button', { name: 'Settings', exact: true }).click();
  await ipek.getByRole('group', { name: 'Settings' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(alice.getByRole('button', { name: 'Show all 3 changes' })).toBeVisible();
  for (const scheme of ['light', 'dark'] as const) {
    await alice.emulateMedia({ colorScheme: scheme });
    const contrast = await new AxeBuilder({ page: alice }).setLegacyMode(true).withRules(['color-contrast']).analyze();
    expect(contrast.violations.flatMap((violation) => violation.nodes.map((node) => node.target.join(' '))), scheme).toEqual([]);
  }
  await alice.emulateMedia({ colorScheme: 'light' });

  const dialog = await newChat(alice, 'New direct message');
  const field = dialog.getByRole('combobox', { name: 'User name' });
  await field.fill('AY');
  const people = dialog.getByRole('listbox', { name: 'People' });
  await expect(people.getByRole('option')).toHaveText([/^AYayla\s*online$/]);
  await photographLooks(alice, 'people picker', { widths: [1280, 720] });
  await field.fill('zz');
  await expect(dialog.getByRole('status').filter({ hasText: 'No one in this room matches “zz”.' })).toBeVisible();
  await expect(people).toHaveCount(0);
  // The Turkish capital dotted İ finds "ipek"; Enter takes the first offer and opens the chat, typing goes to it.
  await field.fill('İP');
  await expect(people.getByRole('option', { name: /ipek.*last seen/ })).toHaveAttribute('aria-selected', 'true');
  await field.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(alice.getByRole('main', { name: 'ipek', exact: true })).toBeVisible();
  await expect(composer(alice)).toBeFocused();
  await alice.keyboard.type('a draft for ipek');

  // Alt+↓ to the next conversation (the room) and back: focus in each composer, the draft kept.
  await alice.keyboard.press('Alt+ArrowDown');
  await expect(alice.getByRole('main', { name: 'Lab', exact: true })).toBeVisible();
  await expect(composer(alice)).toBeFocused();
  await expect(composer(alice)).toHaveValue('');
  await alice.keyboard.press('Alt+ArrowDown');
  await expect(alice.getByRole('main', { name: 'ipek', exact: true })).toBeVisible();
  await expect(composer(alice)).toHaveValue('a draft for ipek');
  await expect(composer(alice)).toBeFocused();

  // From the chat list, Enter opens the room with the focus in its composer.
  await openConversation(alice, /^Lab/);
  for (let index = 1; index <= 12; index++) await send(alice, `note ${index}`);
  await conversationLink(alice, /^Lab/).focus();
  await alice.keyboard.press('Enter');
  await expect(composer(alice)).toBeFocused();

  // From the list to the composer by Tab: the twelve messages' toolbars are one stop, not nine each.
  await conversationLink(alice, /^Lab/).focus();
  let presses = 0;
  let toolbarStops = 0;
  while (!(await composer(alice).evaluate((box) => box === document.activeElement)) && presses < 60) {
    await alice.keyboard.press('Tab');
    presses += 1;
    if (await alice.evaluate(() => document.activeElement?.closest('[role="toolbar"]') !== null)) toolbarStops += 1;
  }
  testInfo.annotations.push({ type: 'tabs from the chat list to the composer', description: String(presses) });
  expect(toolbarStops).toBe(1);
  expect(presses).toBeLessThanOrEqual(12);

  // Inside the toolbar the arrows move: along its buttons, and up to the message before.
  await alice.keyboard.press('Shift+Tab');
  while (!(await alice.evaluate(() => document.activeElement?.closest('[role="toolbar"]') !== null))) await alice.keyboard.press('Shift+Tab');
  const newest = message(alice, 'note 12').getByRole('toolbar');
  await expect(newest.getByRole('button', { name: 'React with 👍' })).toBeFocused();
  await alice.keyboard.press('ArrowRight');
  await expect(newest.getByRole('button', { name: 'React with ❤️' })).toBeFocused();
  await alice.keyboard.press('ArrowUp');
  await expect(message(alice, 'note 11').getByRole('toolbar').getByRole('button', { name: 'React with ❤️' })).toBeFocused();
  await photographLooks(alice, 'roving toolbar', { widths: [1280, 720] });

  // A hidden toolbar takes no clicks: where the newest message's bar would stand over the message above,
  // a click reaches that message, not an invisible button.
  await composer(alice).focus();
  await alice.mouse.move(0, 0);
  const bar = (await message(alice, 'note 12').getByRole('toolbar').boundingBox())!;
  const own = (await message(alice, 'note 12').boundingBox())!;
  expect(bar.y).toBeLessThan(own.y);
  const point = { x: bar.x + bar.width / 2, y: (bar.y + own.y) / 2 };
  expect(await alice.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('[role="toolbar"]') === null, point)).toBe(true);
});

test('a first file, a first group and signing out: kinds in words, a visible tiny picture, previews, a removal that says so', async ({ room }) => {
  const { users } = await room(['alice', 'berk']);
  const [alice, berk] = users.map((user) => user.page) as [Page, Page];

  await dropFiles(berk, [{ name: 'notes.txt', text: 'plain words' }]);
  await captionAndSend(berk, '');
  const card = alice.getByRole('group', { name: 'notes.txt' });
  await expect(card).toContainText('Text file');
  await expect(card).not.toContainText('octet-stream');
  await expect(conversationLink(alice, /^Lab/)).toHaveAccessibleDescription('berk: 📎 notes.txt');

  await dropFiles(berk, [{ name: 'dot.png', picture: { width: 1, height: 1, colour: '#ffffff' } }]);
  await captionAndSend(berk, '');
  const picture = alice.getByRole('button', { name: 'Open picture dot.png' });
  await expect(picture).toBeVisible();
  const size = (await picture.boundingBox())!;
  expect(size.width).toBeGreaterThanOrEqual(48);
  expect(size.height).toBeGreaterThanOrEqual(48);
  expect(await picture.evaluate((element) => getComputedStyle(element).borderTopWidth)).not.toBe('0px');
  await photographLooks(alice, 'text file and tiny picture', { widths: [1280, 720] });

  // Deleted: the list says so, not an empty "berk:".
  const last = messages(berk).last();
  await last.hover();
  await last.getByRole('button', { name: 'Message actions' }).click();
  await berk.getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await confirm(berk, 'Delete');
  await expect(conversationLink(alice, /^Lab/)).toHaveAccessibleDescription('Message deleted');

  // A group berk is removed from: his room says so.
  const dialog = await newChat(alice, 'New group');
  await dialog.getByRole('textbox', { name: 'Group name' }).fill('Team');
  await dialog.getByRole('combobox', { name: 'Invite someone' }).fill('BER');
  await dialog.getByRole('combobox', { name: 'Invite someone' }).press('Enter');
  await expect(dialog.getByRole('list', { name: 'People to invite' })).toHaveText('berk');
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await answerInvitation(berk, 'Team');
  await expect(berk.getByRole('main', { name: 'Team', exact: true })).toBeVisible();
  const details = await openDetails(alice, 'Group details');
  await details.getByRole('button', { name: 'Remove berk' }).click();
  await confirm(alice, 'Remove');
  await expect(berk.getByRole('main', { name: 'Lab', exact: true })).toBeVisible();
  await expect(berk.getByText('You are no longer a member of “Team”.')).toBeVisible();
  await photographLooks(berk, 'removed from a group', { widths: [1280, 720] });

  // Signing out closes the settings with it.
  await berk.getByRole('button', { name: 'Settings', exact: true }).click();
  await berk.getByRole('group', { name: 'Settings' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(berk.getByRole('status').filter({ hasText: 'You signed out of Lab.' })).toBeVisible();
  await expect(berk.getByRole('group', { name: 'Settings' })).toHaveCount(0);
});
