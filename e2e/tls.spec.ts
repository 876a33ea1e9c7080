/**
 * Transport security through the real UI: the room fingerprint in the host panel,
 * the first-use note and badge when joining, the changed-fingerprint warning with
 * its explicit Trust button, and a room hosted without TLS.
 */
import { expect, test } from './fixtures.js';
import { freePort, hostRoom, openRoomSettings, securityBadge, stopHosting, submitJoin } from './ui.js';
import { photograph } from './photos.js';

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

test('fingerprint shown by the host, pinned by the joiner, a changed one blocked until trusted', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob, mallory] = (await shells(['alice', 'bob', 'mallory'])).map((user) => user.page);
  const roomFingerprint = async (page: typeof alice) =>
    (await openRoomSettings(page!)).getByRole('note', { name: 'Room fingerprint' }).textContent();

  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  const genuine = (await roomFingerprint(alice)) ?? '';
  expect(genuine).toMatch(FINGERPRINT);

  await submitJoin(bob!, { port, name: 'bob' });
  await expect(securityBadge(bob!)).toHaveText('Encrypted to the host');
  await expect(bob!.getByRole('region', { name: 'First connection to this host' })).toContainText(genuine);
  await bob!.getByRole('button', { name: 'Trust', exact: true }).click();
  await bob!.getByRole('button', { name: 'Leave room' }).click();

  // Another room answers on the same port: a different certificate.
  await stopHosting(alice!);
  await hostRoom(mallory!, { room: 'Lab', port, name: 'mallory' });
  const presented = (await roomFingerprint(mallory)) ?? '';
  expect(presented).toMatch(FINGERPRINT);
  expect(presented).not.toBe(genuine);

  await submitJoin(bob!, { port, name: 'bob' });
  const warning = bob!.getByRole('alert', { name: 'The host’s identity has changed' });
  await expect(warning).toContainText(genuine);
  await expect(warning).toContainText(presented);
  await expect(securityBadge(bob!)).toHaveCount(0);
  await photograph(bob!, 'fingerprint changed');
  await warning.getByRole('button', { name: 'Trust new fingerprint' }).click();
  await expect(securityBadge(bob!)).toHaveText('Encrypted to the host');
  // Trusting it was the check: no first-connection note asks for it again.
  await expect(securityBadge(bob!)).toHaveAttribute('title', new RegExp(presented));
  await expect(bob!.getByRole('region', { name: 'First connection to this host' })).toHaveCount(0);
});

test('a room hosted without TLS says so, and is joined only with consent', async ({ shells }) => {
  const port = await freePort();
  const [carol, dave] = (await shells(['carol', 'dave'])).map((user) => user.page);
  await hostRoom(carol!, { room: 'Lab', port, name: 'carol', tls: false });
  await expect(await openRoomSettings(carol!)).toContainText('Not encrypted');
  await expect(securityBadge(carol!)).toHaveText('Not encrypted');

  await submitJoin(dave!, { port, name: 'dave' });
  await expect(dave!.getByRole('alert')).toContainText('does not encrypt');
  await dave!.getByRole('button', { name: 'Join without encryption' }).click();
  await expect(securityBadge(dave!)).toHaveText('Not encrypted');
});
