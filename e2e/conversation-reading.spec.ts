/**
 * Issue 12, reading: "Read by N" in a group with who on hover and focus, the settings that stop
 * read receipts and typing lines, and the "↓ N new" button while scrolled up.
 */
import type { Page } from '@playwright/test';
import { expect, sharedRoom, test } from './fixtures.js';
import type { ShellUser } from './shell.js';
import { answerInvitation, conversationLink, currentConversation, message, newChat, openConversation, send, startDirectChat } from './ui.js';

async function openSettings(page: Page) {
  const panel = page.getByRole('group', { name: 'Settings', exact: true });
  if ((await panel.count()) === 0) await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(panel).toBeVisible();
  return panel;
}

// Each test has conversations of its own in this room: the group Team, the chats alice–bob and alice–carol, Lab.
const room = sharedRoom(['alice', 'bob', 'carol']);

/** `from` asks `to` for a direct chat and `to` accepts; both have it open. */
async function directChat(to: ShellUser, from: ShellUser) {
  await startDirectChat(from.page, to.name);
  await to.page.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: `Accept ${from.name}` }).click();
  await openConversation(to.page, new RegExp(`^${from.name}`));
}

test('a group shows "Read by N" under your message, and who on hover or focus', async () => {
  const [a, b, c] = (await room('alice', 'bob', 'carol')).map((user) => user.page) as [Page, Page, Page];

  const dialog = await newChat(a, 'New group');
  await dialog.getByRole('textbox', { name: 'Group name' }).fill('Team');
  for (const name of ['carol', 'bob']) {
    await dialog.getByRole('combobox', { name: 'Invite someone' }).fill(name);
    await dialog.getByRole('button', { name: 'Invite', exact: true }).click();
  }
  await dialog.getByRole('button', { name: 'Create group' }).click();
  for (const page of [b, c]) {
    await answerInvitation(page, 'Team');
    // Joining opens the group; then back to the room, so the group's next message is not read on arrival.
    await expect(currentConversation(page, 'Team')).toBeVisible();
    await openConversation(page, 'Lab');
  }

  await send(a, 'plan for friday');
  await expect(conversationLink(b, /^Team, 1 unread/)).toBeVisible();
  await expect(conversationLink(c, /^Team, 1 unread/)).toBeVisible();
  const mark = message(a, 'plan for friday').getByRole('button', { name: /^Read by / });
  await expect(mark).toHaveCount(0);

  await openConversation(b, /^Team/);
  await expect(mark).toHaveText('Read by 1');
  await expect(mark).toHaveAccessibleDescription('bob');
  await openConversation(c, /^Team/);
  await expect(mark).toHaveText('Read by 2');

  const names = message(a, 'plan for friday').getByRole('tooltip');
  await expect(names).toBeHidden();
  await mark.hover();
  await expect(names).toHaveText('bob, carol');
  await a.mouse.move(0, 0);
  await expect(names).toBeHidden();
  await mark.focus();
  await expect(names).toBeVisible();
  await expect(mark).toHaveAccessibleDescription('bob, carol');
});

test('with read receipts off you send none and see none, at once; back on, they return', async () => {
  const [alice, bob] = (await room('alice', 'bob')) as [ShellUser, ShellUser];
  const [a, b] = [alice.page, bob.page];
  await directChat(alice, bob);

  await send(a, 'are you there?');
  const read = (page: Page, text: string) => message(page, text).getByText('Read', { exact: true });
  await expect(read(a, 'are you there?')).toBeVisible();

  const settings = await openSettings(a);
  const receipts = settings.getByRole('checkbox', { name: 'Send read receipts' });
  await expect(receipts).toBeChecked();
  await receipts.uncheck();
  await expect(receipts).not.toBeChecked();
  await expect(read(a, 'are you there?')).toHaveCount(0);

  // alice reads bob's answer (her view is at the end), and bob is not told.
  await send(b, 'yes, here');
  await expect(message(a, 'yes, here')).toBeVisible();
  await send(b, 'still here');
  await expect(message(a, 'still here')).toBeVisible();
  await expect(conversationLink(a, /^bob$/)).toBeVisible();
  await expect(read(b, 'still here')).toHaveCount(0);
  // bob still sees that much when he opens the chat again (what the server tells him, not only what was pushed).
  await openConversation(b, /^Lab/);
  await openConversation(b, /^alice/);
  await expect(message(b, 'still here')).toBeVisible();
  await expect(read(b, 'still here')).toHaveCount(0);

  await receipts.check();
  await expect(receipts).toBeChecked();
  await expect(read(a, 'are you there?')).toBeVisible();
  // A position moved while receipts were off is shared from the next move on.
  await send(b, 'back again');
  await expect(message(a, 'back again')).toBeVisible();
  await expect(read(b, 'back again')).toBeVisible();
});

test('with typing lines off nobody sees you typing; on, they do', async () => {
  const [a, b] = (await room('alice', 'bob')).map((user) => user.page) as [Page, Page];
  for (const page of [a, b]) await openConversation(page, /^Lab/);

  // Every typing line bob's window ever shows, however briefly.
  await b.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { typingSeen: string[] }).typingSeen = seen;
    new MutationObserver(() => {
      const text = document.querySelector('.typing-indicator')?.textContent ?? '';
      if (text !== '') seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const seen = () => b.evaluate(() => (window as unknown as { typingSeen: string[] }).typingSeen);

  const settings = await openSettings(a);
  const typing = settings.getByRole('checkbox', { name: 'Show others when I am typing' });
  await expect(typing).toBeChecked();
  await typing.click();
  await expect(typing).not.toBeChecked();
  await a.getByRole('button', { name: 'Settings', exact: true }).click();
  const box = a.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('quiet draft');
  // Her typing frame, had one gone, would have reached bob before this message on the same link.
  await box.fill('');
  await send(a, 'sent quietly');
  await expect(message(b, 'sent quietly')).toBeVisible();
  expect(await seen()).toEqual([]);

  await (await openSettings(a)).getByRole('checkbox', { name: 'Show others when I am typing' }).click();
  await expect(typing).toBeChecked();
  await a.getByRole('button', { name: 'Settings', exact: true }).click();
  await box.pressSequentially('loud draft');
  await expect(b.getByText('alice is typing…')).toBeVisible();
});

test('scrolled up, "↓ N new" counts what arrived below; it shows the first of them and that is read', async () => {
  const [alice, carol] = (await room('alice', 'carol')) as [ShellUser, ShellUser];
  // alice reads (a, scrolled up), carol writes (b). alice hosts, so no first-use bar takes her short window's height.
  const [a, b] = [alice.page, carol.page];
  await a.setViewportSize({ width: 1000, height: 420 });
  await directChat(alice, carol);

  for (let i = 1; i <= 16; i += 1) await send(b, `earlier ${String(i).padStart(2, '0')}`);
  await expect(message(a, 'earlier 16')).toBeInViewport();
  const log = a.getByRole('log', { name: 'Messages' });
  await log.evaluate((element) => (element.scrollTop = 0));
  await expect(message(a, 'earlier 16')).not.toBeInViewport();

  for (let i = 1; i <= 14; i += 1) await send(b, `fresh ${String(i).padStart(2, '0')}`);
  const jump = a.getByRole('button', { name: /^Show \d+ new messages?$/ });
  await expect(jump).toHaveAccessibleName('Show 14 new messages');
  await expect(jump).toHaveText('↓ 14 new');
  const read = (text: string) => message(b, text).getByText('Read', { exact: true });
  await expect(read('earlier 16')).toBeVisible();
  await expect(read('fresh 01')).toHaveCount(0);

  await jump.click();
  await expect(message(a, 'fresh 01')).toBeInViewport({ ratio: 1 });
  await expect(read('fresh 01')).toBeVisible();
  // The rest is counted until it is seen.
  await expect(jump).toHaveText(/^↓ \d+ new$/);
  await jump.click();
  await expect(jump).toHaveCount(0);
  await expect(message(a, 'fresh 14')).toBeInViewport();
  await expect(read('fresh 14')).toBeVisible();
});
