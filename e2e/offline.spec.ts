import { expect, test } from './fixtures.js';
import { conversationLink, joinRoom, message, openConversation, roomPeople, send, startDirectChat } from './ui.js';

test('messages sent while a user is away reach them when they come back', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);

  await send(bob!, 'back in five');
  await expect(message(alice!, 'back in five')).toBeVisible();
  await bob!.getByRole('button', { name: 'Leave room' }).click();
  await expect(bob!.getByRole('tab', { name: 'Join room' })).toBeVisible();
  await expect(alice!.getByText('bob left')).toBeVisible();
  await expect((await roomPeople(alice!)).getByRole('button', { name: /^bob, offline/ })).toBeVisible();

  await send(alice!, 'room news while bob is out');
  await startDirectChat(alice!, 'bob');
  await send(alice!, 'a private note for later');

  await joinRoom(bob!, { port, name: 'bob' });
  await expect(message(bob!, 'room news while bob is out')).toHaveCount(1);
  await expect(bob!.getByRole('region', { name: 'Chat requests' })).toContainText('alice wants to chat');
  await expect(conversationLink(bob!, 'alice, 1 unread')).toBeVisible();
  await openConversation(bob!, 'alice');
  await expect(message(bob!, 'a private note for later')).toBeVisible();
  await expect(message(alice!, 'a private note for later').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
});
