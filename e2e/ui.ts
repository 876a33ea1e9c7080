/**
 * What a person does in the UI, spelled with roles and accessible names only,
 * so the specs read like the steps a user takes.
 */
import { createServer } from 'node:net';
import { type Locator, type Page, expect } from '@playwright/test';

export const PASSWORD = 'correct horse';

/**
 * A port free on loopback right now, so a host can restart on the same one. Taken below
 * Linux's ephemeral range (32768+): the system hands those to outgoing connections, which
 * could grab the port between this check and the host binding it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

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

/** The header's badge: "Encrypted" or "Not encrypted". */
export function securityBadge(page: Page): Locator {
  return page.getByRole('status', { name: 'Connection security' });
}

export function conversationLink(page: Page, name: string | RegExp): Locator {
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name });
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

export async function startDirectChat(page: Page, name: string) {
  const form = page.getByRole('form', { name: 'New direct message' });
  await form.getByRole('textbox', { name: 'User name' }).fill(name);
  await form.getByRole('button', { name: 'Start chat' }).click();
}

/** The status of your own message with this text: queued, sent, delivered or failed. */
export function ownStatus(page: Page, text: string): Locator {
  return message(page, text).getByRole('img', { name: /^Status: / });
}
