/**
 * The main screens in light and dark, English and Turkish, written to docs/screenshots/
 * (`npm run screenshots`). Each view is opened once, in English, by role and name; then the
 * language and theme change through the settings, as a user would change them, and it is shot
 * in each.
 */
import type { Page } from '@playwright/test';
import { callApp } from './bridge.js';
import { captionAndSend, dropFiles } from './files-ui.js';
import { expect, test } from './fixtures.js';
import type { ShellUser } from './shell.js';
import {
  answerInvitation,
  createGroup,
  currentConversation,
  message,
  openConversation,
  openDetails,
  openRoomSettings,
  send,
  startDirectChat,
} from './ui.js';

const OUT = 'docs/screenshots';
const LOOKS = [
  { language: 'en', theme: 'light' },
  { language: 'en', theme: 'dark' },
  { language: 'tr', theme: 'light' },
  { language: 'tr', theme: 'dark' },
] as const;

/** Text that shows once the window has switched to the language. */
const SETTLED = { en: /^(Settings|Host room)$/, tr: /^(Ayarlar|Oda aç)$/ };

async function shootEveryLook(user: ShellUser, screen: string): Promise<void> {
  for (const look of LOOKS) {
    expect(await callApp(user, 'updateSettings', [look])).toMatchObject({ ok: true });
    const page: Page = user.page;
    await expect(page.locator('html')).toHaveAttribute('lang', look.language);
    await expect(page.locator('html')).toHaveAttribute('data-theme', look.theme);
    await expect(page.getByRole('button', { name: SETTLED[look.language] }).or(page.getByRole('tab', { name: SETTLED[look.language] })).first()).toBeVisible();
    await page.evaluate(() => document.fonts.ready);
    // No hover effect from where the last click left the pointer.
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${OUT}/${screen}-${look.language}-${look.theme}.png`, animations: 'disabled', caret: 'hide' });
  }
  await callApp(user, 'updateSettings', [{ language: 'en', theme: 'light' }]);
  await expect(user.page.locator('html')).toHaveAttribute('lang', 'en');
}

test('screenshots of the main screens', async ({ room, shells }) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users;
  for (const user of users) await user.page.setViewportSize({ width: 1280, height: 800 });

  await send(bob!.page, 'Morning! Did last night’s build pass?');
  await send(alice!.page, 'Yes, all green 🎉 The installer is on the share.');
  await send(carol!.page, 'Great, I will try it on the lab machines after standup.');
  await send(bob!.page, 'Thanks! Ping me if the Turkish keyboard layout still misbehaves: ğüşıöç İI');

  await startDirectChat(bob!.page, 'alice');
  await alice!.page.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await send(bob!.page, 'Can you review my pull request after lunch?');
  await openConversation(alice!.page, 'bob');
  await send(alice!.page, 'Sure, send me the link 👍');

  await createGroup(alice!.page, 'Release team');
  const details = await openDetails(alice!.page, 'Group details');
  for (const member of ['bob', 'carol']) {
    await details.getByRole('button', { name: 'Add member' }).click();
    const dialog = alice!.page.getByRole('dialog', { name: 'Add member' });
    await dialog.getByRole('combobox', { name: 'Member name' }).fill(member);
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await expect(details.getByRole('list', { name: 'Members' })).toContainText(member);
  }
  for (const user of [bob!, carol!]) await answerInvitation(user.page, 'Release team');
  await send(alice!.page, 'Release candidate 2 goes out on Friday.');
  await openConversation(carol!.page, 'Release team');
  await send(carol!.page, 'I will write the release notes.');
  await expect(message(alice!.page, 'I will write the release notes.')).toBeVisible();

  const [erin] = await shells(['erin']);
  await erin!.page.setViewportSize({ width: 1280, height: 800 });
  await shootEveryLook(erin!, 'start');

  await openConversation(alice!.page, /^Lab/);
  await expect(message(alice!.page, 'Turkish keyboard')).toBeVisible();
  await shootEveryLook(alice!, 'room');

  await openConversation(alice!.page, 'bob');
  await shootEveryLook(alice!, 'direct');

  await openConversation(alice!.page, 'Release team');
  await openDetails(alice!.page, 'Group details');
  await shootEveryLook(alice!, 'group');
  await alice!.page.keyboard.press('Escape');

  await openConversation(alice!.page, /^Lab/);
  await alice!.page.getByRole('searchbox', { name: 'Search messages' }).fill('build');
  await expect(alice!.page.getByRole('list', { name: 'Search results' }).getByRole('button')).toHaveCount(1);
  await shootEveryLook(alice!, 'search');
  await alice!.page.getByRole('searchbox', { name: 'Search messages' }).fill('');

  await openRoomSettings(alice!.page);
  await shootEveryLook(alice!, 'room-settings');
  await alice!.page.keyboard.press('Escape');

  await openConversation(alice!.page, 'Release team');
  await alice!.page.setViewportSize({ width: 720, height: 800 });
  await shootEveryLook(alice!, 'narrow');

  // Pictures and a file from bob in the room: inline at their size, the card, the viewer.
  await openConversation(bob!.page, /^Lab/);
  await dropFiles(bob!.page, [
    { name: 'test-bench.png', picture: { width: 1600, height: 900, colour: '#3a7bd5' } },
    { name: 'wiring.png', picture: { width: 600, height: 800, colour: '#c0563a' } },
    { name: 'Test report, build 2417.pdf', text: '%PDF-1.4 test report' },
  ]);
  await captionAndSend(bob!.page, 'Photos of the test bench, and the report');
  await alice!.page.setViewportSize({ width: 1280, height: 800 });
  await openConversation(alice!.page, /^Lab/);
  await expect(message(alice!.page, 'Photos of the test bench').getByRole('button', { name: 'Open picture wiring.png' })).toBeVisible();
  await dropFiles(alice!.page, [{ name: 'release-checklist.txt', text: 'checklist' }]);
  await shootEveryLook(alice!, 'files');
  await alice!.page.getByRole('button', { name: 'Open picture test-bench.png' }).click();
  const viewer = alice!.page.getByRole('dialog', { name: 'test-bench.png' });
  await expect.poll(() => viewer.getByRole('img', { name: 'test-bench.png' }).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1600);
  await shootEveryLook(alice!, 'image-viewer');
  await alice!.page.keyboard.press('Escape');
  await alice!.page.setViewportSize({ width: 720, height: 800 });
  await shootEveryLook(alice!, 'files-narrow');
  await alice!.page.getByRole('button', { name: 'Remove release-checklist.txt' }).click();

  // bob muted for half an hour, with a message another window of his sent meanwhile: refused.
  await openConversation(bob!.page, /^Lab/);
  await bob!.page.getByRole('button', { name: 'Trust', exact: true }).click();
  expect(await callApp(alice!, 'hostAdmin', [{ kind: 'mute', user: 'bob', minutes: 30 }])).toMatchObject({ ok: true });
  await expect(bob!.page.getByRole('textbox', { name: 'Message' })).toBeDisabled();
  await callApp(bob!, 'send', [{ kind: 'room' }, 'Sorry, I was away. Which build was it?']);
  await expect(message(bob!.page, 'Which build was it?').getByRole('button', { name: 'Retry' })).toBeVisible();
  await shootEveryLook(bob!, 'muted');

  // carol leaves without signing out: the start screen says what that keeps.
  await carol!.page.getByRole('button', { name: 'Leave room' }).click();
  await expect(carol!.page.getByRole('status').filter({ hasText: 'You left Lab.' })).toBeVisible();
  await shootEveryLook(carol!, 'left');
});

// Issue 12: a group's conversation with a reply, an edit, a deleted message, reactions, "Read by N"
// and a typing line; then "↓ N new" while scrolled up. Wide and 720 px.
test('screenshots of conversation changes', async ({ room }) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users as [ShellUser, ShellUser, ShellUser];
  for (const user of users) await user.page.setViewportSize({ width: 1280, height: 800 });

  await createGroup(alice.page, 'Release team');
  const details = await openDetails(alice.page, 'Group details');
  for (const member of ['bob', 'carol']) {
    await details.getByRole('button', { name: 'Add member' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Add member' });
    await dialog.getByRole('combobox', { name: 'Member name' }).fill(member);
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await expect(details.getByRole('list', { name: 'Members' })).toContainText(member);
  }
  await alice.page.keyboard.press('Escape');
  for (const user of [bob, carol]) {
    await answerInvitation(user.page, 'Release team');
    await expect(currentConversation(user.page, 'Release team')).toBeVisible();
  }

  await send(bob.page, 'Lunch at noon tomorrow, after the release review?');
  const question = message(alice.page, 'Lunch at noon');
  await question.hover();
  await question.getByRole('button', { name: 'Reply', exact: true }).click();
  await send(alice.page, 'Works for me, the usual place.');
  await send(carol.page, 'I will bring the slides');
  const slides = message(carol.page, 'I will bring the slides');
  await slides.hover();
  await slides.getByRole('button', { name: 'Message actions' }).click();
  await carol.page.getByRole('menuitem', { name: 'Edit' }).click();
  await send(carol.page, 'I will bring the slides and the demo build');
  await send(bob.page, 'wrong chat, sorry');
  const wrong = message(bob.page, 'wrong chat');
  await wrong.hover();
  await wrong.getByRole('button', { name: 'Message actions' }).click();
  await bob.page.getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await bob.page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await send(alice.page, 'Release notes are in the wiki, please check the install steps.');
  for (const [user, emoji] of [[bob, '👍'], [carol, '❤️'], [carol, '👍']] as const) {
    const notes = message(user.page, 'Release notes are in the wiki');
    await notes.hover();
    await notes.getByRole('button', { name: `React with ${emoji}` }).click();
  }
  await expect(message(alice.page, 'Release notes').getByRole('button', { name: 'Read by 2' })).toBeVisible();
  await expect(message(alice.page, 'Message deleted')).toBeVisible();
  await expect(message(alice.page, 'demo build').getByText('(edited)')).toBeVisible();

  // bob keeps typing while alice's window is shot.
  let typing = true;
  const keepTyping = (async () => {
    const box = bob.page.getByRole('textbox', { name: 'Message' });
    while (typing) {
      await box.pressSequentially('.');
      await bob.page.waitForTimeout(500);
    }
  })();
  await expect(alice.page.getByText('bob is typing…')).toBeVisible();
  await shootEveryLook(alice, 'conversation');
  await alice.page.setViewportSize({ width: 720, height: 800 });
  await shootEveryLook(alice, 'conversation-narrow');
  typing = false;
  await keepTyping;
  await alice.page.setViewportSize({ width: 1280, height: 800 });
  // Who read it, as keyboard focus shows it.
  await message(alice.page, 'Release notes').getByRole('button', { name: 'Read by 2' }).focus();
  await expect(message(alice.page, 'Release notes').getByRole('tooltip')).toBeVisible();
  await shootEveryLook(alice, 'read-by');
  await alice.page.getByRole('textbox', { name: 'Message' }).focus();
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('');

  const groups = (await callApp(bob, 'groups', [])) as { ok: true; value: { id: number }[] };
  const team = { kind: 'group', groupId: groups.value[0]!.id };
  for (let i = 1; i <= 24; i += 1) expect(await callApp(bob, 'send', [team, `Checklist item ${i} done`])).toMatchObject({ ok: true });
  await expect(message(alice.page, 'Checklist item 24 done')).toBeVisible();
  await alice.page.getByRole('log', { name: 'Messages' }).evaluate((element) => (element.scrollTop = 0));
  for (const text of ['Build 2.0.0-rc2 is up', 'Installer signed', 'Smoke tests pass on Windows and Linux']) await send(carol.page, text);
  await expect(alice.page.getByRole('button', { name: 'Show 3 new messages' })).toBeVisible();
  await shootEveryLook(alice, 'new-below');
  await alice.page.setViewportSize({ width: 720, height: 800 });
  await alice.page.getByRole('log', { name: 'Messages' }).evaluate((element) => (element.scrollTop = 0));
  await shootEveryLook(alice, 'new-below-narrow');
});
