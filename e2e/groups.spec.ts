import { expect, test } from './fixtures.js';
import { conversationLink, currentConversation, message, openConversation, send } from './ui.js';

test('a group: created, members added, its messages seen by members only, renamed, removed', async ({ room }, testInfo) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);

  const newGroup = alice!.getByRole('form', { name: 'New group' });
  await newGroup.getByRole('textbox', { name: 'Group name', exact: true }).fill('Team');
  await newGroup.getByRole('button', { name: 'Create group' }).click();
  await openConversation(alice!, 'Team');
  const details = alice!.getByRole('complementary', { name: 'Group details' });
  await details.getByRole('textbox', { name: 'Member name' }).fill('bob');
  await details.getByRole('button', { name: 'Add member' }).click();
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('bob');
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('alice (owner)');

  await send(alice!, 'standup at noon');
  await expect(conversationLink(bob!, 'Team, 1 unread')).toBeVisible();
  await openConversation(bob!, 'Team');
  await expect(message(bob!, 'standup at noon')).toBeVisible();
  await send(bob!, 'see you there');
  await expect(message(alice!, 'see you there')).toBeVisible();
  // Only the owner manages the group.
  await expect(bob!.getByRole('complementary', { name: 'Group details' }).getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await testInfo.attach('group conversation', { body: await alice!.screenshot(), contentType: 'image/png' });

  // carol is not a member: no conversation, and searching finds nothing of it.
  await expect(conversationLink(carol!, /Team/)).toHaveCount(0);
  await carol!.getByRole('searchbox', { name: 'Search messages' }).fill('noon');
  await expect(carol!.getByText('No messages found.')).toBeVisible();

  await details.getByRole('textbox', { name: 'New group name' }).fill('Core team');
  await details.getByRole('button', { name: 'Rename' }).click();
  await expect(currentConversation(bob!, 'Core team')).toBeVisible();

  await details.getByRole('button', { name: 'Remove bob' }).click();
  await expect(conversationLink(bob!, /Core team/)).toHaveCount(0);
  await expect(details.getByRole('list', { name: 'Members' })).not.toContainText('bob');

  await details.getByRole('button', { name: 'Delete group' }).click();
  await expect(conversationLink(alice!, /Core team/)).toHaveCount(0);
});
