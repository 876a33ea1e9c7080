/**
 * What a person does in the UI, spelled with roles and accessible names only,
 * so the specs read like the steps a user takes.
 */
import { type Locator, type Page, expect } from '@playwright/test';
import { photograph, photographing } from './photos.js';

export const PASSWORD = 'correct horse';

export { freePort } from '../src-main/testing/ports.js';

async function fillRoomForm(page: Page, tab: 'Host room' | 'Join room', place: string, port: number, name: string, password: string) {
  await page.getByRole('tab', { name: tab }).click();
  await page.getByRole('textbox', { name: tab === 'Host room' ? 'Room name' : 'Host', exact: true }).fill(place);
  await page.getByRole('textbox', { name: 'Port' }).fill(String(port));
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

export async function hostRoom(
  page: Page,
  options: { room: string; port: number; name: string; password?: string; tls?: boolean; access?: 'open' | 'approval' },
) {
  await fillRoomForm(page, 'Host room', options.room, options.port, options.name, options.password ?? PASSWORD);
  if (options.access) await page.getByRole('combobox', { name: 'Who can join' }).selectOption(options.access);
  if (options.tls === false) await page.getByRole('checkbox', { name: 'Encrypt connections (TLS)' }).uncheck();
  await page.getByRole('button', { name: 'Start hosting' }).click();
  await expectOnline(page);
}

/** Fills the join form and submits it; the caller checks the outcome. */
export async function submitJoin(page: Page, options: { port: number; name: string; password?: string; host?: string }) {
  await fillRoomForm(page, 'Join room', options.host ?? '127.0.0.1', options.port, options.name, options.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
}

export async function joinRoom(page: Page, options: { port: number; name: string; password?: string }) {
  await submitJoin(page, options);
  await expectOnline(page);
}

export async function expectOnline(page: Page) {
  await expect(page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
}

/** The header's badge: "Encrypted to the host" or "Not encrypted". */
export function securityBadge(page: Page): Locator {
  return page.getByRole('status', { name: 'Connection security' });
}

export function conversationLink(page: Page, name: string | RegExp): Locator {
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name });
}

/** Answers an invitation from the sidebar's "Group invitations" (accepting opens the group). */
export async function answerInvitation(page: Page, group: string, accept = true) {
  const invitations = page.getByRole('region', { name: 'Group invitations' });
  await invitations.getByRole('button', { name: accept ? `Join ${group}` : `Decline the invitation to ${group}` }).click();
}

export async function openConversation(page: Page, name: string | RegExp) {
  await conversationLink(page, name).click();
  await expect(currentConversation(page, typeof name === 'string' ? name : undefined)).toBeVisible();
}

/** The open conversation: a main landmark named by its heading. */
export function currentConversation(page: Page, name?: string): Locator {
  return page.getByRole('main', name === undefined ? {} : { name, exact: true });
}

export function messages(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' }).getByRole('article');
}

export function message(page: Page, text: string): Locator {
  return messages(page).filter({ hasText: text });
}

export async function send(page: Page, text: string) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

/** Opens the sidebar's "+" menu and picks one of its items. */
export async function newChat(page: Page, item: 'New direct message' | 'New group'): Promise<Locator> {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('menu', { name: 'New chat' }).getByRole('menuitem', { name: item }).click();
  return page.getByRole('dialog', { name: item });
}

export async function startDirectChat(page: Page, name: string) {
  const dialog = await newChat(page, 'New direct message');
  await dialog.getByRole('combobox', { name: 'User name' }).fill(name);
  await dialog.getByRole('button', { name: 'Start chat' }).click();
  // The dialog closes once the chat is open; typing before that would reach the dialog, not the composer.
  await expect(dialog).toHaveCount(0);
}

export async function createGroup(page: Page, name: string) {
  const dialog = await newChat(page, 'New group');
  await dialog.getByRole('textbox', { name: 'Group name' }).fill(name);
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(dialog).toHaveCount(0);
}

/** Opens the details drawer of the open conversation ("Group details", "Chat details", "Room details"). */
export async function openDetails(page: Page, label: string): Promise<Locator> {
  const drawer = page.getByRole('complementary', { name: label, exact: true });
  if ((await drawer.count()) === 0) await page.getByRole('button', { name: label, exact: true }).click();
  await expect(drawer).toBeVisible();
  return drawer;
}

/** The host's "Room settings" drawer, opened from the header when closed. */
export async function openRoomSettings(page: Page): Promise<Locator> {
  const drawer = page.getByRole('complementary', { name: 'Room settings', exact: true });
  if ((await drawer.count()) === 0) await page.getByRole('button', { name: 'Room settings', exact: true }).click();
  await expect(drawer).toBeVisible();
  return drawer;
}

/** Answers the open confirmation dialog with its confirming button. */
export async function confirm(page: Page, button: string) {
  const dialog = page.getByRole('alertdialog');
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await expect(dialog).toHaveCount(0);
}

export async function stopHosting(page: Page) {
  const settings = await openRoomSettings(page);
  await settings.getByRole('button', { name: 'Stop hosting' }).click();
  await confirm(page, 'Stop hosting');
}

/** The room's people, with their presence, in the room's details drawer. */
export async function roomPeople(page: Page): Promise<Locator> {
  await openConversation(page, /^Lab/);
  const drawer = await openDetails(page, 'Room details');
  return drawer.getByRole('list', { name: 'Contacts' });
}

/** The status of your own message with this text: queued, sent, delivered or failed. */
export function ownStatus(page: Page, text: string): Locator {
  return message(page, text).getByRole('img', { name: /^Status: / });
}

/**
 * Photographs in light and dark, at each width, to be looked at (e2e/photos.ts: when the run photographs);
 * `show` brings what is shot into view first. Leaves the page light and 1280 px wide.
 */
export async function photographLooks(
  page: Page,
  name: string,
  { widths = [1280, 420], height = 900, show }: { widths?: number[]; height?: number; show?: () => Promise<void> } = {},
): Promise<void> {
  if (!photographing) {
    // As it would be left: wide, showing what was to be photographed.
    await page.setViewportSize({ width: 1280, height });
    await show?.();
    return;
  }
  for (const scheme of ['light', 'dark'] as const) {
    for (const width of widths) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height });
      await show?.();
      // Transitions finish at once: a layout that changed with the width shows as it ends up.
      await photograph(page, `${name} ${scheme} ${width}`, { animations: 'disabled' });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height });
}
