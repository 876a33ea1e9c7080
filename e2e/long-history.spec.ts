import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src-main/store/store.js';
import { expect, test } from './fixtures.js';
import { expectOnline, freePort, hostRoom, joinRoom, message, messages } from './ui.js';
import { photograph } from './photos.js';

const TOTAL = 100_000;

/** Fills the host's database with a room of TOTAL messages, as if it had been chatting for years. */
function seedRoom(profileDir: string): void {
  const dataDir = join(profileDir, 'host');
  mkdirSync(dataDir, { recursive: true });
  const store = openStore(join(dataDir, 'chat.sqlite'));
  try {
    const archivist = store.createUser({
      name: 'archivist',
      nameKey: 'archivist',
      skeleton: 'archivist',
      passwordHash: 'scrypt$unusable',
      createdAt: Date.now() - TOTAL * 60_000,
    });
    const start = Date.now() - TOTAL * 60_000;
    for (let first = 1; first <= TOTAL; first += 10_000) {
      store.insertMessages(
        Array.from({ length: 10_000 }, (_, index) => ({
          conv: 'room',
          senderId: archivist.id,
          clientMsgId: `seed-${first + index}`,
          text: `archived message ${first + index}`,
          ts: start + (first + index) * 60_000,
        })),
      );
    }
  } finally {
    store.close();
  }
}

test('a room with 100,000 messages opens at the latest ones and pages back on demand', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob] = await shells(['alice', 'bob'], (name, profileDir) => {
    if (name === 'alice') seedRoom(profileDir);
  });
  await hostRoom(alice!.page, { room: 'Archive', port, name: 'alice' });
  await joinRoom(bob!.page, { port, name: 'bob' });

  for (const page of [alice!.page, bob!.page]) {
    await expect(message(page, `archived message ${TOTAL}`)).toBeVisible();
    // Virtualized: only a window of the loaded messages is in the page.
    expect(await messages(page).count()).toBeLessThan(100);
    await expectOnline(page);
  }
  const page = bob!.page;
  await expect(message(page, `archived message ${TOTAL - 60}`)).toHaveCount(0);
  const log = page.getByRole('log', { name: 'Messages' });
  // Scrolling up like a reader does: the older page is fetched when the top comes near.
  await log.hover();
  for (let scrolls = 0; scrolls < 40 && (await message(page, `archived message ${TOTAL - 60}`).count()) === 0; scrolls += 1) {
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(100);
  }
  await expect(message(page, `archived message ${TOTAL - 60}`)).toBeVisible();
  await photograph(page, 'long history');
});
