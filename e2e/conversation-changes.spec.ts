/**
 * Issue 12 end to end: replies, edits, deletes and reactions seen live and after an app restart,
 * typing lines, the unread line and read receipts, and a mention that notifies a muted conversation.
 */
import type { Browser, Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { type ShellUser, startShell } from './shell.js';
import { photographLooks, confirm, conversationLink, expectOnline, message, openConversation, send, startDirectChat } from './ui.js';

const restarted: ShellUser[] = [];
test.afterEach(async () => {
  await Promise.all(restarted.splice(0).map((user) => user.stop()));
});

async function restart(browser: Browser, user: ShellUser): Promise<ShellUser> {
  await user.stop();
  const again = await startShell(browser, user.name, undefined, user.home);
  restarted.push(again);
  return again;
}

/** The message with this text written by `author` (a reply quoting it also holds the text). */
function by(page: Page, author: string, text: string): Locator {
  return message(page, text).filter({ has: page.getByRole('toolbar', { name: `Message from ${author}` }) });
}

/** The hover bar of the message with this text (shown on hover; reachable with Tab too). */
async function actions(page: Page, text: string): Promise<Locator> {
  const row = message(page, text);
  await row.hover();
  return row.getByRole('toolbar');
}

test('two users reply, edit, delete and react, and see it live and after a restart', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users;
  const [a, b] = [alice!.page, bob!.page];

  await send(b, 'lunch at noon?');
  await (await actions(a, 'lunch at noon?')).getByRole('button', { name: 'Reply', exact: true }).click();
  await expect(a.getByText('Replying to bob')).toBeVisible();
  await a.getByRole('textbox', { name: 'Message' }).pressSequentially('yes please');
  await expect(b.getByText('alice is typing…')).toBeVisible();
  await a.getByRole('textbox', { name: 'Message' }).press('Enter');
  const quote = (page: Page) => message(page, 'yes please').getByRole('button', { name: /^Reply to bob: / });
  await expect(quote(b)).toHaveAccessibleName('Reply to bob: lunch at noon?. Show the original');
  await expect(b.getByText('alice is typing…')).toHaveCount(0);

  // bob reacts from the hover bar; alice sees the count and who, and adds hers with the picker.
  await (await actions(b, 'yes please')).getByRole('button', { name: 'React with 👍' }).click();
  const thumbs = (page: Page) => message(page, 'yes please').getByRole('button', { name: /^👍 / });
  await expect(thumbs(a)).toHaveAccessibleName('👍 1 reaction: bob');
  await expect(thumbs(b)).toHaveAttribute('aria-pressed', 'true');
  await thumbs(a).click();
  await expect(thumbs(b)).toHaveAccessibleName('👍 2 reactions: bob, alice');
  // The mention is not last: with the caret right after @carol, Enter would pick carol from the suggestions.
  await send(b, 'see https://example.org and ask @carol first');
  await b.getByRole('textbox', { name: 'Message' }).fill('typing a reply to @');
  await (await actions(b, 'yes please')).hover();
  await photographLooks(b, 'conversation', { widths: [1200, 720], height: 720 });

  // bob edits his question with the keyboard: the message's menu button, then its Edit item.
  const menu = by(b, 'bob', 'lunch at noon?').getByRole('button', { name: 'Message actions' });
  await menu.focus();
  await b.keyboard.press('Enter');
  await b.getByRole('menuitem', { name: 'Edit' }).press('Enter');
  const box = b.getByRole('textbox', { name: 'Message' });
  await expect(box).toHaveValue('lunch at noon?');
  await box.fill('lunch at one?');
  await box.press('Enter');
  await expect(message(a, 'lunch at one?').getByText('(edited)')).toBeVisible();
  await expect(message(a, 'lunch at noon?')).toHaveCount(0);
  await expect(quote(a)).toHaveAccessibleName('Reply to bob: lunch at one?. Show the original');

  // carol's app is closed while bob deletes his question and alice takes her reaction back.
  await carol!.stop();
  const question = by(b, 'bob', 'lunch at one?');
  await question.hover();
  await question.getByRole('button', { name: 'Message actions' }).click();
  await b.getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await confirm(b, 'Delete');
  await expect(message(a, 'Message deleted')).toBeVisible();
  await expect(message(a, 'yes please').getByText('The original message was deleted')).toBeVisible();
  await thumbs(a).click();
  await expect(thumbs(b)).toHaveAccessibleName('👍 1 reaction: bob');

  const carol2 = await restart(browser, carol!);
  const c = carol2.page;
  await expectOnline(c);
  await expect(message(c, 'Message deleted')).toBeVisible();
  await expect(message(c, 'lunch at')).toHaveCount(0);
  await expect(message(c, 'yes please').getByText('The original message was deleted')).toBeVisible();
  await expect(thumbs(c)).toHaveAccessibleName('👍 1 reaction: bob');
  // Only the author (or the host) may edit or delete.
  await (await actions(c, 'yes please')).getByRole('button', { name: 'Message actions' }).click();
  await expect(c.getByRole('menuitem', { name: 'Edit' })).toHaveCount(0);
  await expect(c.getByRole('menuitem', { name: 'Delete for everyone' })).toHaveCount(0);
});

test('a conversation opens at its first unread message, and the sender sees it read', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [a, b] = users.map((user) => user.page);

  await startDirectChat(b!, 'alice');
  await a!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await send(b!, 'first of three');
  await send(b!, 'second of three');
  await send(b!, 'third of three');
  await expect(conversationLink(a!, /^bob, 3 unread/)).toBeVisible();
  await expect(message(b!, 'third of three').getByText('Read')).toHaveCount(0);

  await openConversation(a!, /^bob/);
  const log = a!.getByRole('log', { name: 'Messages' });
  await expect(log.getByRole('separator', { name: 'New messages' })).toBeVisible();
  await photographLooks(a!, 'unread', { widths: [1200, 720], height: 720 });
  await expect(conversationLink(a!, /^bob$/)).toBeVisible();
  await expect(message(b!, 'third of three').getByText('Read', { exact: true })).toBeVisible();
});

test('a mention notifies a muted conversation; other messages there do not', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [a, b] = users.map((user) => user.page);

  // Notifications recorded instead of shown, with the window out of view.
  await a!.evaluate(() => {
    const shown: string[] = [];
    (window as unknown as { shown: string[] }).shown = shown;
    class Recorded {
      static permission = 'granted';
      onclick: (() => void) | null = null;
      constructor(title: string, options?: { body?: string }) {
        shown.push(`${title}: ${options?.body ?? ''}`);
      }
      close(): void {}
    }
    Object.defineProperty(window, 'Notification', { value: Recorded });
    document.hasFocus = () => false;
  });
  const shown = () => a!.evaluate(() => (window as unknown as { shown: string[] }).shown);

  await a!.getByRole('button', { name: 'Notifications' }).click();
  await a!.getByRole('menuitem', { name: 'Mute for 1 hour' }).click();
  await expect(a!.getByRole('button', { name: /^Notifications: Muted until / })).toBeVisible();

  await send(b!, 'nothing urgent');
  await expect(message(a!, 'nothing urgent')).toBeVisible();
  await send(b!, '@alice the build is red');
  await expect(message(a!, '@alice the build is red').locator('.mention-me')).toHaveText('@alice');
  await expect.poll(shown).toEqual(['bob in Lab: @alice the build is red']);
});
