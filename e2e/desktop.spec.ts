import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures.js';
import { photograph } from './photos.js';
import { PASSWORD, conversationLink, currentConversation, send, startDirectChat } from './ui.js';

test('desktop manners: unread count in the title, shortcuts, theme, Turkish UI, remembered join details', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);

  await startDirectChat(bob!, 'alice');
  await send(bob!, 'ping');
  await send(bob!, 'ping again');
  await expect(alice!).toHaveTitle('(2) LanChat');
  await expect(conversationLink(alice!, 'bob, 2 unread')).toBeVisible();

  // Ctrl+K focuses search; Alt+Down and Alt+Up walk the conversations.
  await alice!.keyboard.press('Control+k');
  await expect(alice!.getByRole('searchbox', { name: 'Search messages' })).toBeFocused();
  await alice!.keyboard.press('Alt+ArrowDown');
  await expect(currentConversation(alice!, 'bob')).toBeVisible();
  await expect(alice!).toHaveTitle('LanChat');
  await alice!.keyboard.press('Alt+ArrowUp');
  await expect(currentConversation(alice!, 'Lab')).toBeVisible();

  await alice!.getByRole('button', { name: 'Settings', exact: true }).click();
  await alice!.getByRole('combobox', { name: 'Theme' }).selectOption('dark');
  await expect(alice!.locator('html')).toHaveAttribute('data-theme', 'dark');
  await photograph(alice!, 'dark theme');
  await alice!.getByRole('combobox', { name: 'Language' }).selectOption('tr');
  await expect(alice!.getByRole('button', { name: 'Odadan çık' })).toBeVisible();
  await expect(alice!.locator('html')).toHaveAttribute('lang', 'tr');

  // After leaving, the join form remembers where and who, never the password.
  await bob!.getByRole('button', { name: 'Leave room' }).click();
  await bob!.reload();
  await bob!.getByRole('tab', { name: 'Join room' }).click();
  await expect(bob!.getByRole('textbox', { name: 'Host', exact: true })).toHaveValue('127.0.0.1');
  await expect(bob!.getByRole('textbox', { name: 'Port' })).toHaveValue(String(port));
  await expect(bob!.getByRole('textbox', { name: 'Your name' })).toHaveValue('bob');
  await expect(bob!.getByLabel('Password', { exact: true })).toHaveValue('');
  await photograph(bob!, 'start screen');
  const profileDir = join(users[1]!.home, 'bob');
  for (const file of readdirSync(profileDir, { recursive: true, withFileTypes: true })) {
    if (file.isFile()) expect(readFileSync(join(file.parentPath, file.name)).includes(PASSWORD)).toBe(false);
  }
});
