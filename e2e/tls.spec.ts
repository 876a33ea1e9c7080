/**
 * Transport security through the real UI: the room fingerprint in the host panel,
 * the first-use note and badge when joining, the changed-fingerprint warning with
 * its explicit Trust button, and a room hosted without TLS.
 */
import { type AddressInfo, createServer } from 'node:net';
import { expect, test } from '@playwright/test';
import { type ShellUser, removeHomes, startShell } from './shell.js';

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const users: ShellUser[] = [];

test.afterEach(async () => {
  await Promise.all(users.splice(0).map((user) => user.stop()));
  removeHomes();
});

async function shell(browser: Parameters<typeof startShell>[0], name: string): Promise<ShellUser> {
  const user = await startShell(browser, name);
  users.push(user);
  return user;
}

/** A port nothing listens on: bound once by the system, then released. */
async function freePort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return String(port);
}

async function fillRoomForm(user: ShellUser, placeLabel: string, place: string, port: string, password: string): Promise<void> {
  const { page } = user;
  await page.getByLabel(placeLabel, { exact: true }).fill(place);
  await page.getByLabel('Port').fill(port);
  await page.getByLabel('Your name').fill(user.name);
  await page.getByLabel('Password').fill(password);
}

async function host(user: ShellUser, port: string, options: { tls?: boolean } = {}): Promise<void> {
  await fillRoomForm(user, 'Room name', 'Lab', port, `${user.name}-pw`);
  if (options.tls === false) await user.page.getByLabel('Encrypt connections (TLS)').uncheck();
  await user.page.getByRole('button', { name: 'Start hosting' }).click();
  await expect(user.page.getByRole('region', { name: 'Host panel' })).toBeVisible();
}

async function join(user: ShellUser, port: string): Promise<void> {
  await user.page.getByRole('tab', { name: 'Join room' }).click();
  await fillRoomForm(user, 'Host', '127.0.0.1', port, `${user.name}-pw`);
  await user.page.getByRole('button', { name: 'Join', exact: true }).click();
}

test('fingerprint shown by the host, pinned by the joiner, a changed one blocked until trusted', async ({ browser }) => {
  const alice = await shell(browser, 'alice');
  const port = await freePort();
  await host(alice, port);
  const panel = alice.page.getByRole('region', { name: 'Host panel' });
  const genuine = (await panel.locator('code.fingerprint').textContent()) ?? '';
  expect(genuine).toMatch(FINGERPRINT);

  const bob = await shell(browser, 'bob');
  await join(bob, port);
  await expect(bob.page.locator('.security-badge')).toHaveText('Encrypted');
  await expect(bob.page.getByRole('note')).toContainText(genuine);
  await bob.page.getByRole('button', { name: 'Got it' }).click();
  await bob.page.getByRole('button', { name: 'Leave room' }).click();

  // Another room answers on the same port: a different certificate.
  await alice.page.getByRole('button', { name: 'Stop hosting' }).click();
  const mallory = await shell(browser, 'mallory');
  await host(mallory, port);
  const presented = (await mallory.page.locator('code.fingerprint').textContent()) ?? '';
  expect(presented).not.toBe(genuine);

  await join(bob, port);
  const warning = bob.page.getByRole('alert', { name: 'The host’s identity has changed' });
  await expect(warning).toContainText(genuine);
  await expect(warning).toContainText(presented);
  await expect(bob.page.locator('.security-badge')).toHaveCount(0);
  await warning.getByRole('button', { name: 'Trust new fingerprint' }).click();
  await expect(bob.page.locator('.security-badge')).toHaveText('Encrypted');
  await expect(bob.page.getByRole('note')).toContainText(presented);
});

test('a room hosted without TLS says so, and is joined only with consent', async ({ browser }) => {
  const carol = await shell(browser, 'carol');
  const port = await freePort();
  await host(carol, port, { tls: false });
  await expect(carol.page.getByRole('region', { name: 'Host panel' })).toContainText('Not encrypted');
  await expect(carol.page.locator('.security-badge')).toHaveText('Not encrypted');

  const dave = await shell(browser, 'dave');
  await join(dave, port);
  await expect(dave.page.getByRole('alert')).toContainText('does not encrypt');
  await dave.page.getByRole('button', { name: 'Join without encryption' }).click();
  await expect(dave.page.locator('.security-badge')).toHaveText('Not encrypted');
});
