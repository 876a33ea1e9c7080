import { LinkProxy } from '../src-main/testing/checker/proxy.js';
import { expect, test } from './fixtures.js';
import { expectOnline, freePort, hostRoom, joinRoom, message, messages, photographLooks, send, stopHosting } from './ui.js';

test('the host stops and restarts: clients reconnect by themselves with nothing lost or doubled, nothing taken back sent', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users.map((user) => user.page);

  await send(bob!, 'before the restart');
  await expect(message(carol!, 'before the restart')).toBeVisible();

  await stopHosting(alice!);
  await expect(alice!.getByRole('tab', { name: 'Host room' })).toBeVisible();
  await expect(bob!.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();

  // Written while the host is away: it waits in bob's outbox.
  await send(bob!, 'written while the host was away');
  await expect(message(bob!, 'written while the host was away').getByRole('img', { name: 'Status: queued' })).toBeVisible();
  // One he takes back before it goes.
  await send(bob!, 'taken back while the host was away');
  const waiting = message(bob!, 'taken back while the host was away').getByRole('group', { name: 'Message waiting' });
  await expect(waiting).toContainText('Not sent yet: this goes by itself once you are back in the room.');
  await photographLooks(bob!, 'messages written while the host is away');
  await waiting.getByRole('button', { name: 'Cancel' }).click();
  await expect(message(bob!, 'taken back while the host was away')).toHaveCount(0);

  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  for (const page of [bob!, carol!]) await expectOnline(page);
  await expect(message(bob!, 'written while the host was away').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
  await expect(bob!.getByRole('group', { name: 'Message waiting' })).toHaveCount(0);
  for (const page of [alice!, bob!, carol!]) {
    await expect(message(page, 'written while the host was away')).toHaveCount(1);
    await expect(message(page, 'before the restart')).toHaveCount(1);
    await expect(message(page, 'taken back while the host was away')).toHaveCount(0);
  }
  await send(carol!, 'after the restart');
  await expect(message(bob!, 'after the restart')).toHaveCount(1);
  await expect(messages(alice!)).toHaveCount(3);
});

test('a message that went out as the connection dropped offers no cancel, and ends sent once', async ({ shells }) => {
  const [alice, bob] = (await shells(['alice', 'bob'])).map((user) => user.page);
  const port = await freePort();
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  // Bob's link runs through a relay that keeps the host's answers from him, then drops.
  const relay = await LinkProxy.start(await freePort(), () => port);
  try {
    await joinRoom(bob!, { port: relay.port, name: 'bob' });
    relay.holdHost();
    await send(bob!, 'sent as the link dropped');
    await expect(message(alice!, 'sent as the link dropped')).toBeVisible();
    relay.close();
    await expect(bob!.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();

    const waiting = message(bob!, 'sent as the link dropped').getByRole('group', { name: 'Message waiting' });
    await expect(waiting).toContainText('Sent just as the connection dropped: it may be in the room already.');
    await expect(waiting.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
    await photographLooks(bob!, 'a message sent as the connection dropped');

    relay.releaseHost();
    await relay.listen();
    await expectOnline(bob!);
    await expect(message(bob!, 'sent as the link dropped').getByRole('img', { name: 'Status: delivered' })).toBeVisible();
    await expect(bob!.getByRole('group', { name: 'Message waiting' })).toHaveCount(0);
    for (const page of [alice!, bob!]) await expect(message(page, 'sent as the link dropped')).toHaveCount(1);
  } finally {
    relay.close();
  }
});
