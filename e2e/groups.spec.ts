import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import {
  answerInvitation,
  confirm,
  conversationLink,
  currentConversation,
  message,
  newChat,
  openConversation,
  openDetails,
  send,
  startDirectChat,
} from './ui.js';
import { photograph } from './photos.js';

/** A membership line in the open conversation. */
function line(page: Page, text: string) {
  return page.getByRole('log', { name: 'Messages' }).getByText(text);
}


test('a group: invitations accepted in the app, membership lines for every member, messages for members only', async ({ room }) => {
  const { users } = await room(['alice', 'bob', 'carol', 'dave']);
  const [alice, bob, carol, dave] = users.map((user) => user.page);

  const dialog = await newChat(alice!, 'New group');
  await dialog.getByRole('textbox', { name: 'Group name' }).fill('Team');
  for (const name of ['carol', 'bob']) {
    await dialog.getByRole('combobox', { name: 'Invite someone' }).fill(name);
    await dialog.getByRole('button', { name: 'Invite', exact: true }).click();
  }
  await expect(dialog.getByRole('list', { name: 'People to invite' })).toContainText('carolbob');
  await photograph(alice!, 'new group dialog, light');
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(currentConversation(alice!, 'Team')).toBeVisible();
  const details = await openDetails(alice!, 'Group details');
  const members = details.getByRole('list', { name: 'Members' });
  await expect(members).toContainText('bob (invited)');
  await expect(members).toContainText('carol (invited)');
  await alice!.emulateMedia({ colorScheme: 'dark' });
  await photograph(alice!, 'group details with invited members, dark');
  await alice!.emulateMedia({ colorScheme: 'light' });

  // Invited is not in: no conversation until the invitation is accepted.
  await expect(conversationLink(bob!, /Team/)).toHaveCount(0);
  await expect(bob!.getByRole('region', { name: 'Group invitations' })).toContainText('alice invites you to Team');
  await bob!.emulateMedia({ colorScheme: 'dark' });
  await photograph(bob!, 'invitation in the sidebar, dark');
  await bob!.emulateMedia({ colorScheme: 'light' });

  await answerInvitation(carol!, 'Team', true);
  await expect(currentConversation(carol!, 'Team')).toBeVisible();
  for (const text of ['alice created the group “Team”', 'alice invited carol', 'alice invited bob', 'carol joined']) {
    await expect(line(carol!, text)).toBeVisible();
  }
  await answerInvitation(bob!, 'Team', true);
  await expect(currentConversation(bob!, 'Team')).toBeVisible();
  await expect(line(carol!, 'bob joined')).toBeVisible();
  await expect(members).not.toContainText('invited');
  await expect(bob!.getByRole('region', { name: 'Group invitations' })).toHaveCount(0);

  await send(alice!, 'standup at noon');
  await expect(message(bob!, 'standup at noon')).toBeVisible();
  await send(bob!, 'see you there');
  await expect(message(carol!, 'see you there')).toBeVisible();
  // Only the owner manages the group.
  const bobsDetails = await openDetails(bob!, 'Group details');
  await expect(bobsDetails.getByRole('button', { name: 'Add member' })).toHaveCount(0);

  await details.getByRole('button', { name: 'Rename group' }).click();
  const renameDialog = alice!.getByRole('dialog', { name: 'Rename group' });
  await renameDialog.getByRole('textbox', { name: 'New group name' }).fill('Core team');
  await renameDialog.getByRole('button', { name: 'Rename' }).click();
  await expect(currentConversation(bob!, 'Core team')).toBeVisible();
  await expect(line(carol!, 'alice renamed the group to “Core team”')).toBeVisible();

  await details.getByRole('button', { name: 'Remove bob' }).click();
  await confirm(alice!, 'Remove');
  await expect(conversationLink(bob!, /Core team/)).toHaveCount(0);
  await expect(line(carol!, 'alice removed bob')).toBeVisible();
  await photograph(carol!, 'membership lines, light');
  await carol!.emulateMedia({ colorScheme: 'dark' });
  await photograph(carol!, 'membership lines, dark');
  await carol!.setViewportSize({ width: 720, height: 800 });
  await photograph(carol!, 'membership lines, dark, narrow');

  // dave declines alice's chat request: she cannot pull him into her group instead.
  await startDirectChat(alice!, 'dave');
  await dave!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Decline alice' }).click();
  await expect(currentConversation(alice!, 'dave')).toContainText('dave declined your chat request.');
  await openConversation(alice!, 'Core team');
  const again = await openDetails(alice!, 'Group details');
  await again.getByRole('button', { name: 'Add member' }).click();
  const addDialog = alice!.getByRole('dialog', { name: 'Add member' });
  await addDialog.getByRole('combobox', { name: 'Member name' }).fill('dave');
  await addDialog.getByRole('button', { name: 'Add member' }).click();
  await expect(addDialog.getByRole('alert')).toContainText('Your chat request was declined.');
  await photograph(alice!, 'declined user cannot be added, light');
  await addDialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(again.getByRole('list', { name: 'Members' })).not.toContainText('dave');
  await expect(dave!.getByRole('region', { name: 'Group invitations' })).toHaveCount(0);

  await again.getByRole('button', { name: 'Delete group' }).click();
  await confirm(alice!, 'Delete group');
  await expect(conversationLink(alice!, /Core team/)).toHaveCount(0);
});
