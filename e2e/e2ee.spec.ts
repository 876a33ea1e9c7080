import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChatClient } from '../src-main/client/client.js';
import { filesHolding } from '../src-main/testing/harness.js';
import { type Fixtures, expect, test } from './fixtures.js';
import { answerInvitation, joinRoom, photographLooks, conversationLink, currentConversation, message, newChat, openConversation, openDetails, ownStatus, send, startDirectChat } from './ui.js';
import { photograph } from './photos.js';

test('a direct chat is end-to-end encrypted: both see it said, a mention of you stands out and is counted, the safety numbers compare, and the host keeps none of its text', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  const hostDir = join(users[0]!.home, 'alice', 'host');

  await send(alice!, 'room-text-the-host-reads');
  await startDirectChat(bob!, 'alice');
  await alice!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await expect(currentConversation(bob!, 'alice')).not.toContainText('Waiting for alice');
  await expect(currentConversation(bob!, 'alice').getByRole('img', { name: 'End-to-end encrypted' })).toBeVisible();

  await send(bob!, 'dm-secret-from-bob');
  await expect(conversationLink(alice!, 'bob, 1 unread')).toBeVisible();
  // A mention inside the encryption is worked out by alice's app, as the host does for a plain one.
  await send(bob!, '@alice dm-mention-secret');
  await expect(conversationLink(alice!, 'bob, 2 unread, 1 mention of you')).toBeVisible();
  await openConversation(alice!, 'bob');
  await expect(message(alice!, 'dm-secret-from-bob')).toBeVisible();
  await expect(message(alice!, 'dm-mention-secret')).toHaveClass(/mentions-me/);
  await expect(message(alice!, 'dm-secret-from-bob')).not.toHaveClass(/mentions-me/);
  await expect(currentConversation(alice!, 'bob').getByRole('img', { name: 'End-to-end encrypted' })).toBeVisible();
  await send(alice!, 'dm-secret-from-alice');
  await expect(message(bob!, 'dm-secret-from-alice')).toBeVisible();

  // The safety number is the same on both sides; bob pastes the one alice sent him (as a chat app would carry
  // it) to have it compared, a wrong one first, then marks her verified.
  const safetyNumber = /^(\d{5} ){11}\d{5}$/;
  const digits = (await openDetails(alice!, 'Chat details')).getByRole('region', { name: 'Safety number' }).getByText(safetyNumber);
  await expect(digits).toBeVisible();
  const aliceNumber = (await digits.textContent())!;
  const atBob = await openDetails(bob!, 'Chat details');
  await expect(atBob.getByRole('region', { name: 'Safety number' }).getByText(safetyNumber)).toHaveText(aliceNumber);
  const pasted = atBob.getByRole('textbox', { name: 'Or paste the number alice sent you, to compare' });
  await pasted.fill(`${aliceNumber.slice(0, -1)}${aliceNumber.endsWith('0') ? '1' : '0'}`);
  await expect(atBob.getByRole('status')).toHaveText(/^It does not match\. Do not mark alice as verified/);
  await pasted.fill(aliceNumber.replaceAll(' ', '\n'));
  await expect(atBob.getByRole('status')).toHaveText('It matches: the same number on both devices.');
  await photographLooks(bob!, 'safety number compared', { show: async () => void (await openDetails(bob!, 'Chat details')) });
  await expect(atBob.getByText('Not verified', { exact: true })).toBeVisible();
  await atBob.getByRole('button', { name: 'Mark alice as verified' }).click();
  await expect(atBob.getByText('Verified', { exact: true })).toBeVisible();

  // The room's text is in the host's files (the search works); the DM's is in none of them.
  await expect.poll(() => filesHolding(hostDir, 'room-text-the-host-reads').length).toBeGreaterThan(0);
  expect(filesHolding(hostDir, 'dm-secret-from-bob')).toEqual([]);
  expect(filesHolding(hostDir, 'dm-secret-from-alice')).toEqual([]);
  expect(filesHolding(hostDir, 'dm-mention-secret')).toEqual([]);
});

/** `name`'s account signed in on a client that is no encryption device (an older app, say); close it after. */
async function olderClient(port: number, name: string): Promise<ChatClient> {
  const client = new ChatClient({ host: '127.0.0.1', port, name, password: `${name}-secret`, reconnect: false });
  await client.connect();
  return client;
}

test('a DM to someone whose app cannot receive encrypted messages yet waits and says why; cancelled, the next one waits in its place', async ({ room }) => {
  const { port, users } = await room(['alice']);
  const alice = users[0]!.page;
  const bob = await olderClient(port, 'bob');
  try {
    await startDirectChat(alice, 'bob');
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    await expect(currentConversation(alice, 'bob')).not.toContainText('Waiting for bob');
    await send(alice, 'first-for-bob');
    await send(alice, 'second-for-bob');
    const why = 'bob’s app cannot receive end-to-end encrypted messages yet: this goes by itself once it can.';
    const waiting = message(alice, 'first-for-bob').getByRole('group', { name: 'Message waiting' });
    await expect(waiting).toContainText(why);
    await expect(message(alice, 'second-for-bob').getByRole('group', { name: 'Message waiting' })).toHaveCount(0);
    await expect(ownStatus(alice, 'second-for-bob')).toHaveAttribute('aria-label', 'Status: queued');
    await photographLooks(alice, 'direct message waiting for their app');
    // A window opened again is told the same.
    await alice.reload();
    await openConversation(alice, 'bob');
    await expect(waiting).toContainText(why);

    await waiting.getByRole('button', { name: 'Cancel' }).click();
    await expect(message(alice, 'first-for-bob')).toHaveCount(0);
    await expect(message(alice, 'second-for-bob').getByRole('group', { name: 'Message waiting' })).toContainText(why);
  } finally {
    bob.close();
  }
});

test('a group whose other member’s app cannot receive encrypted messages yet: the first message waits and says whose', async ({ room }) => {
  const { port, users } = await room(['alice']);
  const alice = users[0]!.page;
  const bob = await olderClient(port, 'bob');
  try {
    const dialog = await newChat(alice, 'New group');
    await dialog.getByRole('textbox', { name: 'Group name' }).fill('plans');
    await dialog.getByRole('combobox', { name: 'Invite someone' }).fill('bob');
    await dialog.getByRole('button', { name: 'Invite', exact: true }).click();
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await expect(currentConversation(alice, 'plans')).toBeVisible();
    await expect.poll(async () => (await bob.request('groupInvitations')).invitations.length).toBe(1);
    const [invitation] = (await bob.request('groupInvitations')).invitations;
    await bob.request('groupAnswer', { groupId: invitation!.groupId, accept: true });
    await expect(alice.getByRole('log', { name: 'Messages' }).getByText('bob joined')).toBeVisible();
    await send(alice, 'first in plans');
    const waiting = message(alice, 'first in plans').getByRole('group', { name: 'Message waiting' });
    await expect(waiting).toContainText('bob’s app cannot receive end-to-end encrypted messages yet: this goes by itself once it can.');
    await expect(waiting.getByRole('button', { name: 'Cancel' })).toBeVisible();
    await photographLooks(alice, 'group message waiting for a member’s app');
  } finally {
    bob.close();
  }
});

test('a member who joins a group while no other member’s app is there to add their device: the message waits and says why', async ({ room }) => {
  const { users } = await room(['hank', 'alice', 'bob', 'carol']);
  const [, alice, bob, carol] = users.map((user) => user.page);
  const dialog = await newChat(alice!, 'New group');
  await dialog.getByRole('textbox', { name: 'Group name' }).fill('plans');
  for (const name of ['bob', 'carol']) {
    await dialog.getByRole('combobox', { name: 'Invite someone' }).fill(name);
    await dialog.getByRole('button', { name: 'Invite', exact: true }).click();
  }
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(currentConversation(alice!, 'plans')).toBeVisible();
  await answerInvitation(bob!, 'plans');
  // The group's encryption begins with alice's and bob's devices; then both their apps quit.
  await expect(alice!.getByRole('log', { name: 'Messages' }).getByText('bob joined')).toBeVisible();
  await send(alice!, 'first in plans');
  await expect(ownStatus(alice!, 'first in plans')).toHaveAttribute('aria-label', /Status: (sent|delivered)/);
  await Promise.all([users[1]!.stop(), users[2]!.stop()]);

  await answerInvitation(carol!, 'plans');
  await openConversation(carol!, 'plans');
  await send(carol!, 'hello plans');
  const waiting = message(carol!, 'hello plans').getByRole('group', { name: 'Message waiting' });
  await expect(waiting).toContainText('This device is not in the group’s encryption yet: this goes by itself once another member’s app adds it.');
  await expect(waiting.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await photographLooks(carol!, 'group message waiting for a member to add this device');
});

/** hank hosts; bob asks alice for a chat, she accepts, and his first message there has gone. */
async function bobWritesToAlice(room: Fixtures['room']) {
  const started = await room(['hank', 'alice', 'bob']);
  const [, alice, bob] = started.users.map((user) => user.page);
  await startDirectChat(bob!, 'alice');
  await alice!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await expect(currentConversation(bob!, 'alice')).not.toContainText('Waiting for alice');
  await send(bob!, 'before the laptop');
  await expect(ownStatus(bob!, 'before the laptop')).toHaveAccessibleName(/^Status: (sent|delivered)$/);
  return started;
}

test('a user’s new app, with nobody online to add it to a DM: its message waits and says for whose app', async ({ room, shells }) => {
  const { port, users } = await bobWritesToAlice(room);
  // Both apps of the DM quit; bob signs in on a new one.
  await Promise.all([users[1]!.stop(), users[2]!.stop()]);
  const [laptop] = await shells(['bob']);
  await joinRoom(laptop!.page, { port, name: 'bob' });
  await openConversation(laptop!.page, 'alice');
  await send(laptop!.page, 'from the laptop');
  const waiting = message(laptop!.page, 'from the laptop').getByRole('group', { name: 'Message waiting' });
  await expect(waiting).toContainText('This device is not in this chat’s encryption yet: this goes by itself once alice’s app adds it.');
  await expect(waiting.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await photographLooks(laptop!.page, 'DM on a new app waiting for the other user’s app to add it');
});

test('a user’s new app is added by their other app while the other user is away: it writes at once, and the other app says the devices changed', async ({ room, shells }) => {
  const { port, users } = await bobWritesToAlice(room);
  const bob = users[2]!.page;
  await users[1]!.stop();
  const [laptop] = await shells(['bob']);
  await joinRoom(laptop!.page, { port, name: 'bob' });
  await openConversation(laptop!.page, 'alice');
  await send(laptop!.page, 'from the laptop');
  await expect(ownStatus(laptop!.page, 'from the laptop')).toHaveAccessibleName(/^Status: (sent|delivered)$/);
  const log = bob.getByRole('log', { name: 'Messages' });
  await expect(log.getByText('Your devices changed: an app of yours was added or removed.', { exact: false })).toBeVisible();
  await expect(log.getByText('from the laptop')).toBeVisible();
  await photographLooks(bob, 'your devices changed, said in a DM by your other app');
});

test('a conversation exports as HTML that opens in the browser, every text escaped, and as JSON; the badge is its lock alone at 420 px', async ({ room, browser }, testInfo) => {
  // Two shells, a chat, two exports and a second page: more than the default on the loaded machine.
  test.setTimeout(180_000);
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  await startDirectChat(bob!, 'alice');
  await alice!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept bob' }).click();
  await expect(currentConversation(bob!, 'alice')).not.toContainText('Waiting for alice');
  await send(bob!, 'export-secret <script>window.ran = 1</script> & <b>not bold</b>');
  await send(bob!, 'Gizli İstanbul planı');
  // An export holds what the host stored; a message still on its way is shown, not yet exported.
  for (const text of ['export-secret', 'Gizli İstanbul planı']) await expect(ownStatus(bob!, text)).toHaveAccessibleName(/^Status: (sent|delivered)$/);

  // In a 420 px window the badge is its lock alone, on one line within the title, named by its words; light and dark.
  const badge = currentConversation(bob!, 'alice').getByRole('img', { name: 'End-to-end encrypted' });
  const words = badge.getByText('End-to-end encrypted', { exact: true });
  await expect(words).toBeVisible();
  await bob!.setViewportSize({ width: 420, height: 760 });
  await expect(words).toBeHidden();
  await expect(badge).toBeVisible();
  const narrow = await badge.evaluate((pill) => {
    const box = pill.getBoundingClientRect();
    return { height: box.height, inside: box.right <= pill.closest('.conversation-title')!.getBoundingClientRect().right + 0.5 };
  });
  expect(narrow.inside).toBe(true);
  expect(narrow.height).toBeLessThan(24);
  for (const scheme of ['light', 'dark'] as const) {
    await bob!.emulateMedia({ colorScheme: scheme });
    await photograph(bob!, `e2ee narrow ${scheme}`);
  }
  await bob!.emulateMedia({ colorScheme: 'light' });
  await bob!.setViewportSize({ width: 1280, height: 800 });

  const drawer = await openDetails(bob!, 'Chat details');
  const exported = async (name: string): Promise<string> => {
    const download = bob!.waitForEvent('download');
    await drawer.getByRole('button', { name, exact: true }).click();
    const path = testInfo.outputPath((await download).suggestedFilename());
    await (await download).saveAs(path);
    return path;
  };
  const htmlFile = await exported('Export as HTML');
  expect(htmlFile).toMatch(/alice-\d{4}-\d{2}-\d{2}\.html$/);
  const reader = await browser.newPage();
  const errors: string[] = [];
  reader.on('pageerror', (error) => errors.push(error.message));
  await reader.goto(pathToFileURL(htmlFile).href);
  await expect(reader.getByRole('heading', { name: 'alice', level: 1 })).toBeVisible();
  const messages = reader.getByRole('list', { name: 'Messages' }).getByRole('listitem');
  await expect(messages).toHaveCount(2);
  await expect(messages.nth(0)).toContainText('export-secret <script>window.ran = 1</script> & <b>not bold</b>');
  await expect(messages.nth(1)).toContainText('Gizli İstanbul planı');
  await expect(reader.locator('b')).toHaveCount(0);
  expect(await reader.evaluate(() => (window as { ran?: number }).ran)).toBeUndefined();
  await photograph(reader, 'export');
  await reader.close();
  expect(errors).toEqual([]);

  const json = JSON.parse(readFileSync(await exported('Export as JSON'), 'utf8')) as { format: string; version: number; title: string; endToEnd: boolean; messages: { text: string; e2ee?: boolean }[] };
  expect(json).toMatchObject({ format: 'lanchat-conversation', version: 1, title: 'alice', endToEnd: true });
  expect(json.messages.map((m) => [m.text, m.e2ee])).toEqual([
    ['export-secret <script>window.ran = 1</script> & <b>not bold</b>', true],
    ['Gizli İstanbul planı', true],
  ]);
});
