import { expect, test } from './fixtures.js';
import { confirm, conversationLink, createGroup, currentConversation, message, openConversation, openDetails, send } from './ui.js';

test('a group: created, members added, its messages seen by members only, renamed, removed', async ({ room }, testInfo) => {
  const { users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);

  await createGroup(alice!, 'Team');
  await expect(currentConversation(alice!, 'Team')).toBeVisible();
  const details = await openDetails(alice!, 'Group details');
  await details.getByRole('button', { name: 'Add member' }).click();
  const addDialog = alice!.getByRole('dialog', { name: 'Add member' });
  await addDialog.getByRole('combobox', { name: 'Member name' }).fill('bob');
  await addDialog.getByRole('button', { name: 'Add member' }).click();
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('bob');
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('alice (owner)');
  await expect(alice!.getByText('alice added bob')).toBeVisible();

  await send(alice!, 'standup at noon');
  await expect(conversationLink(bob!, 'Team, 1 unread')).toBeVisible();
  await openConversation(bob!, 'Team');
  await expect(message(bob!, 'standup at noon')).toBeVisible();
  await expect(bob!.getByText('alice added you to the group')).toBeVisible();
  await send(bob!, 'see you there');
  await expect(message(alice!, 'see you there')).toBeVisible();
  // Only the owner manages the group.
  const bobsDetails = await openDetails(bob!, 'Group details');
  await expect(bobsDetails.getByRole('list', { name: 'Members' })).toContainText('bob');
  await expect(bobsDetails.getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await testInfo.attach('group conversation', { body: await alice!.screenshot(), contentType: 'image/png' });

  // carol is not a member: no conversation, and searching finds nothing of it.
  await expect(conversationLink(carol!, /Team/)).toHaveCount(0);
  await carol!.getByRole('searchbox', { name: 'Search messages' }).fill('noon');
  await expect(carol!.getByText('No messages found.')).toBeVisible();

  await details.getByRole('button', { name: 'Rename group' }).click();
  const renameDialog = alice!.getByRole('dialog', { name: 'Rename group' });
  await renameDialog.getByRole('textbox', { name: 'New group name' }).fill('Core team');
  await renameDialog.getByRole('button', { name: 'Rename' }).click();
  await expect(currentConversation(bob!, 'Core team')).toBeVisible();
  await expect(bob!.getByText('alice renamed the group to “Core team”')).toBeVisible();

  // Removing asks first; cancelling keeps bob.
  await details.getByRole('button', { name: 'Remove bob' }).click();
  await alice!.getByRole('alertdialog', { name: 'Remove bob from Core team?' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('bob');
  await details.getByRole('button', { name: 'Remove bob' }).click();
  await confirm(alice!, 'Remove');
  await expect(conversationLink(bob!, /Core team/)).toHaveCount(0);
  await expect(details.getByRole('list', { name: 'Members' })).not.toContainText('bob');
  await expect(alice!.getByText('alice removed bob')).toBeVisible();

  await details.getByRole('button', { name: 'Delete group' }).click();
  await confirm(alice!, 'Delete group');
  await expect(conversationLink(alice!, /Core team/)).toHaveCount(0);
});
