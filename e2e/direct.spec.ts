import { expect, test } from './fixtures.js';
import { photograph } from './photos.js';
import { confirm, conversationLink, currentConversation, message, openConversation, openDetails, send, startDirectChat } from './ui.js';

test('a chat request accepted leads to a private chat, another is declined', async ({ room }) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);

  await startDirectChat(bob!, 'alice');
  await expect(currentConversation(bob!, 'alice')).toContainText('Waiting for alice to accept your chat request.');
  const requests = alice!.getByRole('region', { name: 'Chat requests' });
  await expect(requests).toContainText('bob wants to chat');
  await requests.getByRole('button', { name: 'Accept bob' }).click();
  await expect(currentConversation(bob!, 'alice')).not.toContainText('Waiting for alice');

  await send(bob!, 'just between us');
  await expect(conversationLink(alice!, 'bob, 1 unread')).toBeVisible();
  await openConversation(alice!, 'bob');
  await expect(message(alice!, 'just between us')).toBeVisible();
  await send(alice!, 'sure thing');
  await expect(message(bob!, 'sure thing')).toBeVisible();
  // Nobody else sees it: carol has no such conversation, and the room does not show it.
  await expect(conversationLink(carol!, /bob|alice/)).toHaveCount(0);
  await expect(message(carol!, 'just between us')).toHaveCount(0);
  await photograph(alice!, 'direct chat');

  await startDirectChat(carol!, 'alice');
  await requests.getByRole('button', { name: 'Decline carol' }).click();
  await expect(currentConversation(carol!, 'alice')).toContainText('alice declined your chat request.');
  await expect(carol!.getByRole('textbox', { name: 'Message' })).toBeDisabled();
  await expect(requests).toHaveCount(0);

  // Ending the chat asks first; both sides lose the accepted state, alice sees a line saying so; the messages stay readable.
  await openConversation(alice!, 'bob');
  await expect((await openDetails(alice!, 'Chat details')).getByRole('button', { name: 'End chat with bob' })).toBeVisible();
  await openConversation(bob!, 'alice');
  await (await openDetails(bob!, 'Chat details')).getByRole('button', { name: 'End chat with alice' }).click();
  await confirm(bob!, 'End chat');
  await expect(bob!.getByRole('button', { name: 'End chat with alice' })).toHaveCount(0);
  await expect(alice!.getByRole('button', { name: 'End chat with bob' })).toHaveCount(0);
  await expect(alice!.getByText('bob ended the chat')).toBeVisible();
  await expect(message(alice!, 'just between us')).toBeVisible();
});
