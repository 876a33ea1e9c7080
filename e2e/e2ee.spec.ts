import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures.js';
import { conversationLink, currentConversation, message, openConversation, send, startDirectChat } from './ui.js';

/** The files of the hosted room's folder that hold the text. */
function hostFilesHolding(hostDir: string, text: string): string[] {
  return readdirSync(hostDir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(hostDir, name))
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(Buffer.from(text)));
}

test('a direct chat is end-to-end encrypted: both see it said, and the host keeps none of its text', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  const hostDir = join(users[0]!.home, 'alice', 'host');

  await send(alice!, 'room-text-the-host-reads');
  await startDirectChat(bob!, 'alice');
  await alice!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await expect(currentConversation(bob!, 'alice')).not.toContainText('Waiting for alice');
  await expect(currentConversation(bob!, 'alice').getByText('End-to-end encrypted', { exact: true })).toBeVisible();

  await send(bob!, 'dm-secret-from-bob');
  await expect(conversationLink(alice!, 'bob, 1 unread')).toBeVisible();
  await openConversation(alice!, 'bob');
  await expect(message(alice!, 'dm-secret-from-bob')).toBeVisible();
  await expect(currentConversation(alice!, 'bob').getByText('End-to-end encrypted', { exact: true })).toBeVisible();
  await send(alice!, 'dm-secret-from-alice');
  await expect(message(bob!, 'dm-secret-from-alice')).toBeVisible();

  // The room's text is in the host's files (the search works); the DM's is in none of them.
  await expect.poll(() => hostFilesHolding(hostDir, 'room-text-the-host-reads').length).toBeGreaterThan(0);
  expect(hostFilesHolding(hostDir, 'dm-secret-from-bob')).toEqual([]);
  expect(hostFilesHolding(hostDir, 'dm-secret-from-alice')).toEqual([]);
});
