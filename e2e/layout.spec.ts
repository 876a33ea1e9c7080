/**
 * The messenger layout as people meet it: every main screen at 720, 1024 and 1440 px without
 * horizontal overflow, checked by axe, photographed in light and dark, English and Turkish;
 * and the main flows by keyboard alone.
 */
import type { Locator, Page } from '@playwright/test';
import { captionAndSend, dropFiles } from './files-ui.js';
import { seriousViolations } from './axe.js';
import { expect, test } from './fixtures.js';
import { photograph, photographing } from './photos.js';
import {
  answerInvitation,
  conversationLink,
  createGroup,
  currentConversation,
  freePort,
  hostRoom,
  joinRoom,
  message,
  openDetails,
  send,
  startDirectChat,
} from './ui.js';

const WIDTHS = [720, 1024, 1440] as const;
/** As long as a group name may be (48 characters). */
const LONG_GROUP = 'Quarterly planning and budget review group, 2027';

/** Elements that must never scroll sideways: the page and each pane of the layout. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [document.documentElement, document.body, ...document.querySelectorAll('.app, .main-window, .sidebar, .conversation, .drawer-body, .message-list, .conversation-header, .start-screen')]
      .filter((element) => element.scrollWidth > element.clientWidth)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className} ${element.scrollWidth}>${element.clientWidth}`),
  );
}

/**
 * At each width: no sideways overflow; no serious accessibility problem, in both themes in English; a photograph
 * in each theme (photos.ts). In Turkish axe runs in the light theme only: the dark theme's colours are the
 * English screen's, which its colour rules have checked.
 */
async function checkScreen(page: Page, screen: string, language: string, widths: readonly number[] = WIDTHS) {
  const size = page.viewportSize();
  for (const width of widths) {
    await page.setViewportSize({ width, height: 820 });
    await expect.poll(() => overflowing(page), { message: `${screen} at ${width}px` }).toEqual([]);
  }
  for (const colorScheme of ['light', 'dark'] as const) {
    const checked = language === 'en' || colorScheme === 'light';
    if (!checked && !photographing) continue;
    await page.emulateMedia({ colorScheme });
    if (checked) expect(await seriousViolations(page, colorScheme), `${screen} ${colorScheme}`).toEqual([]);
    await photograph(page, `${screen} ${language} ${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (size) await page.setViewportSize(size);
}

async function chooseLanguage(page: Page, current: 'Settings' | 'Ayarlar', language: 'en' | 'tr') {
  await page.getByRole('button', { name: current, exact: true }).click();
  await page.getByRole('combobox', { name: current === 'Settings' ? 'Language' : 'Dil' }).selectOption(language);
  await page.keyboard.press('Escape');
}

/** The Host room form with its file limits shown, one of them wrong; then back to the Join tab. */
async function checkHostLimits(page: Page, language: 'en' | 'tr') {
  const en = language === 'en';
  await page.getByRole('tab', { name: en ? 'Host room' : 'Oda aç' }).click();
  await page.getByRole('button', { name: en ? 'File limits' : 'Dosya sınırları' }).click();
  await page.getByRole('textbox', { name: en ? 'Your name' : 'Adınız' }).fill('carol');
  await page.getByRole('textbox', { name: en ? 'Largest file' : 'En büyük dosya' }).fill('a lot');
  await page.getByRole('button', { name: en ? 'Start hosting' : 'Odayı aç' }).click();
  await expect(page.getByRole('alert')).toContainText(en ? 'Largest file:' : 'En büyük dosya:');
  await checkScreen(page, 'host limits', language, en ? WIDTHS : [720]);
  await page.getByRole('textbox', { name: en ? 'Largest file' : 'En büyük dosya' }).fill('');
  await page.getByRole('button', { name: en ? 'File limits' : 'Dosya sınırları' }).click();
  await page.getByRole('tab', { name: en ? 'Join room' : 'Odaya katıl' }).click();
}

test('the main screens fit from 720 to 1440 px, pass axe, and are photographed in both themes and languages', async ({ shells }) => {
  test.setTimeout(300_000);
  const port = await freePort();
  const [alice, bob, carol] = (await shells(['alice', 'bob', 'carol'])).map((user) => user.page);

  await checkScreen(carol!, 'start', 'en');
  await checkHostLimits(carol!, 'en');
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  // Alone in the room: how to invite, with the address to copy.
  const invite = alice!.getByRole('region', { name: 'Nobody else is here yet' });
  await expect(invite.getByRole('button', { name: new RegExp(`^Copy .+:${port}$`) }).first()).toBeVisible();
  await checkScreen(alice!, 'room alone', 'en', [720]);

  await joinRoom(bob!, { port, name: 'bob' });
  await expect(invite).toHaveCount(0);
  await send(bob!, 'Morning! Did the build pass?');
  await send(bob!, 'I will look at the logs after coffee.');
  await send(alice!, 'It did, all green.');
  await expect(message(bob!, 'It did, all green.')).toBeVisible();
  // Two messages in a row from bob share one header: his name is shown once.
  await expect(alice!.getByRole('log', { name: 'Messages' }).locator('.message-sender').filter({ hasText: 'bob' })).toHaveCount(1);
  // Your own message's state is one tick icon with a tooltip; every time shows the full date on hover.
  await expect(message(alice!, 'It did, all green.').getByRole('img', { name: 'Status: delivered' })).toHaveAttribute('title', 'delivered');
  const year = new RegExp(String(new Date().getFullYear()));
  await expect(message(alice!, 'It did, all green.').locator('time')).toHaveAttribute('title', year);
  await expect(message(alice!, 'I will look at the logs after coffee.').locator('time')).toHaveAttribute('title', year);

  await startDirectChat(alice!, 'bob');
  await bob!.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept alice' }).click();
  await send(alice!, 'Lunch at one?');
  await expect(conversationLink(bob!, 'alice, 1 unread')).toBeVisible();

  await createGroup(alice!, LONG_GROUP);
  const details = await openDetails(alice!, 'Group details');
  await details.getByRole('button', { name: 'Add member' }).click();
  await alice!.getByRole('dialog', { name: 'Add member' }).getByRole('combobox', { name: 'Member name' }).fill('bob');
  await alice!.getByRole('dialog', { name: 'Add member' }).getByRole('button', { name: 'Add member' }).click();
  await expect(details.getByRole('list', { name: 'Members' })).toContainText('bob (invited)');
  // Joining opens the group; bob goes back to the room so the next message counts unread.
  await answerInvitation(bob!, LONG_GROUP);
  await expect(currentConversation(bob!, LONG_GROUP)).toBeVisible();
  await conversationLink(bob!, 'Lab').click();
  await expect(details.getByRole('list', { name: 'Members' })).not.toContainText('invited');
  await send(alice!, 'Agenda for Thursday is in the shared folder.');
  await expect(conversationLink(bob!, new RegExp(`^${LONG_GROUP}, 1 unread`))).toBeVisible();
  // Conversations by recent activity after the room: the group, then the direct chat.
  const links = alice!.getByRole('navigation', { name: 'Conversations' }).getByRole('button');
  await expect.poll(() => links.evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-label')))).toEqual(['Lab', LONG_GROUP, 'bob']);
  await expect(conversationLink(alice!, 'bob')).toContainText('You: Lunch at one?');
  // The long group name is cut with an ellipsis rather than widening the sidebar.
  const name = conversationLink(alice!, LONG_GROUP).locator('.conversation-name');
  expect(await name.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);

  for (const language of ['en', 'tr'] as const) {
    const en = language === 'en';
    // Widths are checked in English; Turkish, with its longer words, at the narrowest.
    const widths = en ? WIDTHS : [720];
    const open = async (name: string) => {
      await alice!.getByRole('navigation').getByRole('button', { name, exact: true }).click();
      await expect(currentConversation(alice!, name)).toBeVisible();
    };
    if (!en) {
      await chooseLanguage(alice!, 'Settings', 'tr');
      await chooseLanguage(carol!, 'Settings', 'tr');
      await checkScreen(carol!, 'start', 'tr', widths);
      await checkHostLimits(carol!, 'tr');
    }
    await open('Lab');
    await checkScreen(alice!, 'room', language, widths);
    await open('bob');
    await checkScreen(alice!, 'direct', language, en ? [1024] : []);
    await open(LONG_GROUP);
    await openDetails(alice!, en ? 'Group details' : 'Grup bilgileri');
    await checkScreen(alice!, 'group with details', language, widths);
    await alice!.keyboard.press('Escape');
    const search = alice!.getByRole('searchbox', { name: en ? 'Search messages' : 'Mesajlarda ara' });
    await search.fill('agenda');
    await expect(alice!.getByRole('list', { name: en ? 'Search results' : 'Arama sonuçları' }).getByRole('button')).toHaveCount(1);
    await checkScreen(alice!, 'search', language, en ? [1024] : []);
    await search.fill('');
    await alice!.getByRole('button', { name: en ? 'Room settings' : 'Oda ayarları', exact: true }).click();
    await checkScreen(alice!, 'room settings', language, widths);
    if (en) {
      // The log as a table, filtered to one kind of event.
      const drawer = alice!.getByRole('complementary', { name: 'Room settings' });
      await drawer.getByRole('searchbox', { name: 'Filter log' }).fill('login');
      const log = drawer.getByRole('table', { name: 'Server log' });
      await expect(log.getByRole('row')).not.toHaveCount(1);
      for (const row of await log.getByRole('row').all()) await expect(row).toContainText(/login|Event/);
      await photograph(drawer, 'server log');
      await drawer.getByRole('searchbox', { name: 'Filter log' }).fill('');
    }
    await alice!.keyboard.press('Escape');
    // Narrow: the conversation list is behind a button and covers the conversation when opened.
    const nav = alice!.getByRole('navigation', { name: en ? 'Conversations' : 'Sohbetler' });
    await alice!.setViewportSize({ width: 720, height: 820 });
    await expect(nav).toBeHidden();
    await alice!.getByRole('button', { name: en ? 'Show conversations' : 'Sohbetleri göster' }).click();
    await expect(nav).toBeVisible();
    await checkScreen(alice!, 'narrow', language, [720]);
    await nav.getByRole('button', { name: 'Lab', exact: true }).click();
    await expect(nav).toBeHidden();
    await alice!.setViewportSize({ width: 1280, height: 820 });
  }
});

test('files and pictures fit from 720 to 1440 px, pass axe, and are photographed in both themes and languages', async ({ room }) => {
  test.setTimeout(300_000);
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  await dropFiles(alice!, [
    { name: 'harbour.png', picture: { width: 1600, height: 900, colour: '#3a7bd5' } },
    { name: 'portrait.png', picture: { width: 600, height: 800, colour: '#c0563a' } },
    { name: 'Quarterly report for the steering committee, final version (2).pdf', text: '%PDF-1.4 the report' },
  ]);
  await captionAndSend(alice!, 'Photos from the harbour, and the report');
  await expect(message(bob!, 'Photos from the harbour').getByRole('button', { name: 'Open picture portrait.png' })).toBeVisible();

  await bob!.getByRole('button', { name: 'Trust', exact: true }).click();
  // bob sends a large file and cancels it: the row says so and offers Retry; two more files wait in his composer.
  // The host's process is frozen meanwhile, so the upload cannot end before Cancel, however fast the machine.
  const row = bob!.getByRole('group', { name: 'Sending backup.dat' });
  users[0]!.process.kill('SIGSTOP');
  try {
    await dropFiles(bob!, [{ name: 'backup.dat', size: 90 * 1024 * 1024 }]);
    await captionAndSend(bob!, 'the backup');
    await expect(row.getByRole('progressbar', { name: 'Progress of backup.dat' })).toBeVisible();
    await row.getByRole('button', { name: 'Cancel backup.dat' }).click();
    await expect(row).toContainText('Cancelled');
  } finally {
    users[0]!.process.kill('SIGCONT');
  }
  await dropFiles(bob!, [
    { name: 'screenshot.png', picture: { width: 1280, height: 720, colour: '#5a9e4b' } },
    { name: 'meeting-notes.txt', text: 'notes' },
  ]);
  await checkScreen(bob!, 'files', 'en');
  await bob!.setViewportSize({ width: 720, height: 820 });
  await checkScreen(bob!, 'files narrow', 'en', [720]);
  await bob!.setViewportSize({ width: 1280, height: 820 });

  await bob!.getByRole('button', { name: 'Open picture harbour.png' }).click();
  const viewer = bob!.getByRole('dialog', { name: 'harbour.png' });
  await expect.poll(() => viewer.getByRole('img', { name: 'harbour.png' }).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1600);
  await checkScreen(bob!, 'image viewer', 'en', [720, 1440]);
  await bob!.keyboard.press('Escape');

  await chooseLanguage(bob!, 'Settings', 'tr');
  await expect(bob!.getByRole('button', { name: 'Dosya ekle' })).toBeVisible();
  await checkScreen(bob!, 'files', 'tr', [720, 1440]);
  await bob!.setViewportSize({ width: 720, height: 820 });
  await checkScreen(bob!, 'files narrow', 'tr', [720]);
});

/** How many lines an element's text takes on screen: its rectangles' distinct tops. */
function textLines(element: Locator): Promise<number> {
  return element.evaluate((node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top))).size;
  });
}

test('the window and conversation headers keep their status on one line in every state, both languages, at 720 px and wide', async ({ room }) => {
  test.setTimeout(300_000);
  // The longest names there are: the title gives way (an ellipsis) before the status does.
  const longName = 'bartholomew.montgomery-ashworth';
  const { users } = await room(['alice', longName]);
  const [alice, bob] = users;
  const page = alice!.page;
  await startDirectChat(page, longName);
  await bob!.page.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept alice' }).click();
  await createGroup(page, LONG_GROUP);

  const statusOf = { en: { online: 'online', offline: /^last seen / }, tr: { online: 'çevrimiçi', offline: /^son görülme / } };
  const check = async (language: 'en' | 'tr', state: string, conversation: string, status: string | RegExp) => {
    const header = currentConversation(page, conversation);
    await expect(header.getByRole('heading', { name: conversation })).toBeVisible();
    const subtitle = header.getByText(status);
    for (const width of [720, 1280]) {
      await page.setViewportSize({ width, height: 820 });
      await expect.poll(() => textLines(subtitle), { message: `${state} ${language} at ${width}px: the status on one line` }).toBe(1);
      // Shown whole, not cut by an ellipsis.
      expect(await subtitle.evaluate((element) => element.scrollWidth <= element.clientWidth), `${state} ${language} at ${width}px: the status whole`).toBe(true);
      expect(await textLines(header.getByRole('heading', { name: conversation })), `${state} ${language} at ${width}px: the title on one line`).toBe(1);
      // The window's header: the connection status ("Çevrimiçi") on the row of the buttons, not below them.
      const connection = page.getByRole('status').filter({ hasText: language === 'en' ? 'Online' : 'Çevrimiçi' });
      const [statusBox, buttonBox] = await Promise.all([connection.boundingBox(), page.getByRole('button', { name: language === 'en' ? 'Settings' : 'Ayarlar', exact: true }).boundingBox()]);
      expect(statusBox!.y + statusBox!.height / 2, `${language} at ${width}px: the status beside the buttons`).toBeGreaterThan(buttonBox!.y);
      expect(statusBox!.y + statusBox!.height / 2, `${language} at ${width}px: the status beside the buttons`).toBeLessThan(buttonBox!.y + buttonBox!.height);
      expect(await textLines(connection)).toBe(1);
      for (const colorScheme of photographing ? (['light', 'dark'] as const) : []) {
        await page.emulateMedia({ colorScheme });
        await photograph(page, `header ${state} ${language} ${width} ${colorScheme}`, { clip: { x: 0, y: 0, width, height: 150 } });
      }
      await page.emulateMedia({ colorScheme: 'light' });
    }
  };
  const open = async (name: string) => {
    await page.setViewportSize({ width: 1280, height: 820 });
    await page.getByRole('navigation').getByRole('button', { name, exact: true }).click();
  };

  for (const language of ['en', 'tr'] as const) {
    if (language === 'tr') await chooseLanguage(page, 'Settings', 'tr');
    await open('Lab');
    await check(language, 'room', 'Lab', language === 'en' ? '2 people, 2 online' : '2 kişi, 2 çevrimiçi');
    await open(LONG_GROUP);
    await check(language, 'group', LONG_GROUP, language === 'en' ? '1 member' : '1 üye');
    await open(longName);
    await check(language, 'direct online', longName, statusOf[language].online);
  }
  await bob!.stop();
  await check('tr', 'direct last seen', longName, statusOf.tr.offline);
  await chooseLanguage(page, 'Ayarlar', 'en');
  await check('en', 'direct last seen', longName, statusOf.en.offline);
});

test('keyboard only: Tab walks header, sidebar, conversation; menus, dialogs and drawers close on Escape and give focus back', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice] = users.map((user) => user.page);
  const page = alice!;
  await createGroup(page, 'Team');
  await expect(currentConversation(page, 'Team')).toBeVisible();

  // Tab order: from the top of the page, the header's actions, the sidebar, then the conversation.
  // Clicking the brand puts the start of Tab navigation at the top of the page.
  await page.getByText('LanChat', { exact: true }).click();
  const seen: string[] = [];
  for (let i = 0; i < 40 && !seen.includes('Message'); i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return element?.getAttribute('aria-label') ?? element?.textContent?.trim() ?? '';
    }));
  }
  const order = ['Room settings', 'Leave room', 'New chat', 'Search messages', 'Lab', 'Team', 'Group details', 'Messages', 'Message'];
  const positions = order.map((name) => seen.indexOf(name));
  expect(positions, seen.join(' | ')).not.toContain(-1);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);

  // The "+" menu: Enter opens it on its first item, arrows move, Escape closes it back to the button.
  const newChat = page.getByRole('button', { name: 'New chat' });
  await newChat.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('menuitem', { name: 'New direct message' })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('menuitem', { name: 'New group' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('menu')).toHaveCount(0);
  await expect(newChat).toBeFocused();

  // A dialog takes focus, keeps it inside, closes on Escape and returns focus to the button.
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'New direct message' });
  await expect(dialog.getByRole('combobox', { name: 'User name' })).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('combobox', { name: 'User name' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(newChat).toBeFocused();

  // The details drawer: opened from its button, Escape closes it and focus goes back.
  const detailsButton = page.getByRole('button', { name: 'Group details', exact: true });
  await detailsButton.focus();
  await page.keyboard.press('Enter');
  const drawer = page.getByRole('complementary', { name: 'Group details' });
  await expect(drawer).toBeFocused();
  // A confirmation opened from the drawer: Escape cancels it, focus returns to its button, the group stays.
  const deleteButton = drawer.getByRole('button', { name: 'Delete group' });
  await deleteButton.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alertdialog', { name: 'Delete Team?' }).getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  await expect(deleteButton).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(drawer).toHaveCount(0);
  await expect(detailsButton).toBeFocused();
  await expect(conversationLink(page, 'Team')).toBeVisible();
});
