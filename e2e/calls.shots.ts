/**
 * Calls (issue 39) in light and dark, wide and narrow, written to docs/screenshots/ (`npm run screenshots`):
 * a ringing call, a video call, a shared screen, with the fake camera and screen of playwright.config.ts, and
 * a call whose other session did not vouch for its keys (PROTOCOL §21.7).
 */
import type { Page } from '@playwright/test';
import { callApp } from './bridge.js';
import { expect, test } from './fixtures.js';
import type { ShellUser } from './shell.js';
import { currentConversation, openConversation, send, startDirectChat } from './ui.js';
import { unvouchedOffer } from './unvouched.js';

const OUT = 'docs/screenshots';
const WIDTHS = { '': 1280, '-narrow': 720 } as const;

async function shoot(user: ShellUser, screen: string, settle: (page: Page) => Promise<void>): Promise<void> {
  const page = user.page;
  for (const theme of ['light', 'dark'] as const) {
    expect(await callApp(user, 'updateSettings', [{ theme }])).toMatchObject({ ok: true });
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const [suffix, width] of Object.entries(WIDTHS)) {
      await page.setViewportSize({ width, height: 800 });
      await settle(page);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: `${OUT}/${screen}${suffix}-en-${theme}.png`, animations: 'disabled', caret: 'hide' });
    }
  }
  await callApp(user, 'updateSettings', [{ theme: 'light' }]);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Every video on the page shows a picture (the fake camera's or screen's frames have arrived). */
async function picturesShown(page: Page): Promise<void> {
  await expect
    .poll(() => page.locator('video').evaluateAll((videos) => videos.every((video) => (video as HTMLVideoElement).videoWidth > 0)))
    .toBe(true);
}

test('screenshots of calls', async ({ room }) => {
  const { users, port } = await room(['alice', 'bob']);
  const [alice, bob] = users as [ShellUser, ShellUser];
  // The first-connection question is answered once, the day one joins: not what a call looks like.
  await bob.page.getByRole('region', { name: 'First connection to this host' }).getByRole('button', { name: 'Trust', exact: true }).click();
  await startDirectChat(alice.page, 'bob');
  await bob.page.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept alice' }).click();
  await expect(currentConversation(alice.page, 'bob')).not.toContainText('Waiting for bob');
  await send(alice.page, 'Can you look at the test bench output? I will share my screen.');
  await openConversation(bob.page, 'alice');
  await send(bob.page, 'Sure, call me.');

  await alice.page.getByRole('button', { name: 'Video call' }).click();
  const ring = bob.page.getByRole('dialog', { name: 'alice is calling you' });
  await shoot(bob, 'call-ringing', async () => {
    await expect(ring).toBeVisible();
  });

  await ring.getByRole('button', { name: 'Accept with video' }).click();
  await shoot(alice, 'call-video', async (page) => {
    await expect(page.getByRole('list', { name: 'People in the call' }).getByRole('listitem')).toHaveCount(2);
    await picturesShown(page);
  });

  await alice.page.getByRole('button', { name: 'Share screen' }).click();
  await shoot(bob, 'call-screen', async (page) => {
    await expect(page.getByRole('listitem', { name: /^alice, sharing the screen/ })).toBeVisible();
    await picturesShown(page);
  });
  await alice.page.getByRole('button', { name: 'Hang up' }).click();

  await alice.page.getByRole('button', { name: 'Voice call' }).click();
  const intruder = await unvouchedOffer(port, 'bob', 'alice');
  await shoot(alice, 'call-unverified', async (page) => {
    await expect(page.getByRole('alert')).toContainText('Not connected to bob');
  });
  intruder.close();
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
});
