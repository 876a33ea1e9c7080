/**
 * Files and pictures between real browser-shell processes: dropped onto the window, shown
 * inline and full size, downloaded byte for byte, cancelled and retried, carried through a
 * host restart, kept for a recipient who was away, and a risky file asks first.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { startShell } from './shell.js';
import { captionAndSend, dropFiles, patternSha256 } from './files-ui.js';
import { PASSWORD, expectOnline, freePort, hostRoom, joinRoom, message, photographLooks, send, stopHosting } from './ui.js';

/** The looks the files' screens (the viewer, a refusal) are photographed in: narrow and wide, tall enough for the viewer. */
const FILE_SCREEN_LOOKS = { widths: [720, 1280], height: 820 };

/** Clicks a file's Download and answers the saved file's bytes. */
async function download(page: Page, name: string, confirmFirst = false): Promise<Buffer> {
  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: `Download ${name}` }).first().click();
  if (confirmFirst) await page.getByRole('alertdialog', { name: `Download ${name}?` }).getByRole('button', { name: 'Download' }).click();
  const file = await saved;
  expect(file.suggestedFilename()).toBe(name);
  return readFileSync((await file.path())!);
}

test('pictures and a file dropped onto the window reach the other user, as a reply: thumbnails at their size, the viewer, the exact bytes', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);

  await send(bob!, 'got any photos?');
  const asked = message(alice!, 'got any photos?');
  await asked.hover();
  await asked.getByRole('toolbar').getByRole('button', { name: 'Reply', exact: true }).click();
  await dropFiles(alice!, [
    { name: 'one.png', picture: { width: 640, height: 480, colour: '#d04020' } },
    { name: 'two.png', picture: { width: 300, height: 600, colour: '#2040d0' } },
    { name: 'notes.txt', text: 'the meeting notes' },
  ]);
  // Changed one's mind about one of them.
  await dropFiles(alice!, [{ name: 'extra.txt', text: 'not this one' }]);
  await alice!.getByRole('button', { name: 'Remove extra.txt' }).click();
  // A picture pasted into the message box is attached too (a screenshot, say); this one is taken off again.
  await alice!.getByRole('textbox', { name: 'Message' }).evaluate(async (box) => {
    const canvas = new OffscreenCanvas(40, 30);
    canvas.getContext('2d')!.fillRect(0, 0, 40, 30);
    const clipboardData = new DataTransfer();
    clipboardData.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], 'pasted.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
  });
  await alice!.getByRole('list', { name: 'Files to send' }).getByRole('button', { name: 'Remove pasted.png' }).click();
  await expect(alice!.getByRole('list', { name: 'Files to send' }).getByRole('listitem')).toHaveCount(3);
  await captionAndSend(alice!, 'pictures from the trip');

  const received = message(bob!, 'pictures from the trip');
  await expect(received.getByRole('button', { name: /^Reply to bob: / })).toHaveAccessibleName('Reply to bob: got any photos?. Show the original');
  const first = received.getByRole('button', { name: 'Open picture one.png' });
  const second = received.getByRole('button', { name: 'Open picture two.png' });
  // The sender's thumbnail is drawn in a box of the picture's proportions, fixed before it loads.
  await expect(first).toBeVisible();
  expect(await first.boundingBox()).toMatchObject({ width: 320, height: 240 });
  expect(await second.boundingBox()).toMatchObject({ width: 120, height: 240 });
  await expect(received.getByRole('group', { name: 'notes.txt' })).toContainText('17 byte');

  // The viewer: the full picture, arrows between the conversation's pictures, Escape back to where it was.
  await first.click();
  const viewer = bob!.getByRole('dialog', { name: 'one.png' });
  await expect(viewer).toBeVisible();
  const full = viewer.getByRole('img', { name: 'one.png' });
  await expect(full).toHaveAttribute('src', /^\/files\//);
  await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640);
  await expect(viewer).toContainText('1 of 2');
  await bob!.keyboard.press('ArrowRight');
  await expect(bob!.getByRole('dialog', { name: 'two.png' })).toContainText('2 of 2');
  await expect.poll(() => bob!.getByRole('dialog').getByRole('img', { name: 'two.png' }).evaluate((img: HTMLImageElement) => img.complete && img.naturalHeight)).toBe(600);
  await bob!.keyboard.press('ArrowLeft');
  await expect(bob!.getByRole('dialog', { name: 'one.png' })).toBeVisible();
  await bob!.keyboard.press('Escape');
  await expect(bob!.getByRole('dialog')).toHaveCount(0);
  await expect(first).toBeFocused();

  expect((await download(bob!, 'notes.txt')).toString()).toBe('the meeting notes');
});

test('a transfer shows its progress, can be cancelled and retried, and goes on through a host restart', async ({ room }) => {
  // 90 MB up, through a restart, and down twice (to the app, then to the browser) on a loaded machine.
  test.setTimeout(240_000);
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  const size = 90 * 1024 * 1024;

  // The host's process is frozen while the upload starts, so it cannot end before Cancel, however fast the machine.
  const host = users[0]!.process;
  host.kill('SIGSTOP');
  const uploads = bob!.getByRole('region', { name: 'Files being sent' });
  const row = uploads.getByRole('group', { name: 'Sending big.dat' });
  try {
    await dropFiles(bob!, [{ name: 'big.dat', size }]);
    await captionAndSend(bob!, 'the big one');
    await expect(row.getByRole('progressbar', { name: 'Progress of big.dat' })).toBeVisible();
    await row.getByRole('button', { name: 'Cancel big.dat' }).click();
    await expect(row).toContainText('Cancelled');
    await expect(row.getByRole('progressbar')).toHaveCount(0);
  } finally {
    host.kill('SIGCONT');
  }

  // Retry goes on; the host restarts meanwhile (or just after the last byte) and the upload rides it out.
  await row.getByRole('button', { name: 'Retry big.dat' }).click();
  await expect(row.getByRole('progressbar', { name: 'Progress of big.dat' })).toBeVisible();
  await stopHosting(alice!);
  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  await expect(message(alice!, 'the big one').getByRole('group', { name: 'big.dat' })).toBeVisible({ timeout: 60_000 });
  await expect(uploads).toHaveCount(0);
  expect(createHash('sha256').update(await download(alice!, 'big.dat')).digest('hex')).toBe(patternSha256(size));
});

test('the viewer shows the download of a large picture: the progress over the thumbnail, an error with Retry, then the picture', async ({ room }) => {
  test.setTimeout(180_000);
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  await dropFiles(alice!, [{ name: 'photo.png', picture: { width: 2400, height: 1600, colour: '#3a7bd5', grain: true } }]);
  await captionAndSend(alice!, 'the harbour at dawn');
  const picture = message(bob!, 'the harbour at dawn').getByRole('button', { name: 'Open picture photo.png' });
  await expect(picture).toBeVisible();
  const viewer = bob!.getByRole('dialog', { name: 'photo.png' });
  const progress = viewer.getByRole('progressbar', { name: 'Downloading photo.png' });
  const full = viewer.getByRole('img', { name: 'photo.png' });

  // The host's copy is damaged: the download fails its check, and the viewer says so with Retry.
  const filesDir = join(users[0]!.home, 'alice', 'host', 'files');
  const stored = readdirSync(filesDir, { recursive: true, encoding: 'utf8' }).map((entry) => join(filesDir, entry)).find((path) => /[0-9a-f]{64}$/.test(path))!;
  const original = readFileSync(stored);
  expect(original.length).toBeGreaterThan(4 * 1024 * 1024);
  const damaged = Buffer.from(original);
  damaged[damaged.length - 1]! ^= 0xff;
  writeFileSync(stored, damaged);
  await picture.click();
  await expect(viewer.getByRole('alert')).toHaveText('Failed: photo.png arrived damaged and was removed; try again.');
  await expect(full).toHaveAttribute('src', /^data:/);
  await expect(progress).toHaveCount(0);
  await photographLooks(bob!, 'viewer failed', FILE_SCREEN_LOOKS);

  // Repaired, and the host frozen so the download cannot end at once: Retry shows it under way, size done of the whole.
  writeFileSync(stored, original);
  const host = users[0]!.process;
  host.kill('SIGSTOP');
  try {
    await viewer.getByRole('button', { name: 'Retry photo.png' }).click();
    await expect(progress).toBeVisible();
    await expect(progress).toHaveAttribute('aria-valuenow', '0');
    await expect(progress).toHaveAttribute('aria-valuetext', /^0 bytes of \d+(\.\d)? MB$/);
    await expect(viewer).toContainText(/0 bytes of \d+(\.\d)? MB/);
    await expect(viewer.getByRole('alert')).toHaveCount(0);
    await photographLooks(bob!, 'viewer downloading', FILE_SCREEN_LOOKS);
  } finally {
    host.kill('SIGCONT');
  }
  await expect(full).toHaveAttribute('src', /^\/files\//);
  await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBe(2400);
  await expect(progress).toHaveCount(0);
});

test('the viewer says it waits for the host while the host is gone, and shows the picture once the host is back', async ({ room }) => {
  const { port, users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  await dropFiles(alice!, [{ name: 'dock.png', picture: { width: 1200, height: 800, colour: '#d57a3a' } }]);
  await captionAndSend(alice!, 'the dock');
  const picture = message(bob!, 'the dock').getByRole('button', { name: 'Open picture dock.png' });
  await expect(picture).toBeVisible();
  await stopHosting(alice!);

  await picture.click();
  const viewer = bob!.getByRole('dialog', { name: 'dock.png' });
  const progress = viewer.getByRole('progressbar', { name: 'Downloading dock.png' });
  await expect(progress).toHaveAttribute('aria-valuetext', 'Waiting for the host…');
  await expect(viewer).toContainText('Waiting for the host…');
  await expect(viewer.getByRole('alert')).toHaveCount(0);
  await photographLooks(bob!, 'viewer waiting', FILE_SCREEN_LOOKS);

  await hostRoom(alice!, { room: 'Lab', port, name: 'alice' });
  const full = viewer.getByRole('img', { name: 'dock.png' });
  await expect(full).toHaveAttribute('src', /^\/files\//, { timeout: 30_000 });
  await expect(progress).toHaveCount(0);
});

test('a file sent while its recipient was away arrives when they are back, and a risky one asks before downloading', async ({ room, browser }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users;
  await bob!.stop();

  await dropFiles(alice!.page, [
    { name: 'setup.sh', text: '#!/bin/sh\necho hello\n' },
    { name: 'agenda.txt', text: 'the agenda' },
  ]);
  await captionAndSend(alice!.page, 'for bob');

  const back = await startShell(browser, 'bob', undefined, bob!.home);
  try {
    await expectOnline(back.page);
    const received = message(back.page, 'for bob');
    await expect(received.getByRole('group', { name: 'setup.sh' })).toBeVisible();
    expect((await download(back.page, 'agenda.txt')).toString()).toBe('the agenda');

    // A script: nothing happens until the user says so.
    await back.page.getByRole('button', { name: 'Download setup.sh' }).click();
    const question = back.page.getByRole('alertdialog', { name: 'Download setup.sh?' });
    await expect(question).toContainText('can run a program');
    await question.getByRole('button', { name: 'Cancel' }).click();
    await expect(question).toHaveCount(0);
    expect((await download(back.page, 'setup.sh', true)).toString()).toBe('#!/bin/sh\necho hello\n');
  } finally {
    await back.stop();
  }
});

test('a room hosted with file limits typed in the Host form refuses a larger file with a readable message in the UI language, and the form remembers them', async ({ shells }) => {
  const port = await freePort();
  const [alice, bob] = (await shells(['alice', 'bob'])).map((user) => user.page);
  await alice!.getByRole('tab', { name: 'Host room' }).click();
  await alice!.getByRole('textbox', { name: 'Room name', exact: true }).fill('Lab');
  await alice!.getByRole('textbox', { name: 'Port' }).fill(String(port));
  await alice!.getByRole('textbox', { name: 'Your name' }).fill('alice');
  await alice!.getByLabel('Password', { exact: true }).fill(PASSWORD);
  const disclosure = alice!.getByRole('button', { name: 'File limits' });
  await expect(disclosure).toHaveAttribute('aria-expanded', 'false');
  await disclosure.click();
  const largest = alice!.getByRole('textbox', { name: 'Largest file' });
  // The host's defaults are shown where nothing is typed.
  await expect(largest).toHaveAttribute('placeholder', '100 MB');
  await expect(alice!.getByRole('textbox', { name: 'All files together' })).toHaveAttribute('placeholder', '10 GB');
  await expect(alice!.getByRole('textbox', { name: 'Files per person per day' })).toHaveAttribute('placeholder', '2 GB');

  await largest.fill('a lot');
  await alice!.getByRole('button', { name: 'Start hosting' }).click();
  await expect(alice!.getByRole('alert')).toHaveText('Largest file: type a size above 0, such as 500 MB or 2 GB.');
  await expect(largest).toHaveAttribute('aria-invalid', 'true');
  await largest.fill('1 MB');
  await alice!.getByRole('button', { name: 'Start hosting' }).click();
  await expectOnline(alice!);
  await joinRoom(bob!, { port, name: 'bob' });

  await dropFiles(bob!, [{ name: 'video.dat', size: 2 * 1024 * 1024 }]);
  // Refused at once, so the files may never leave the composer: no captionAndSend, which waits for that.
  await bob!.getByRole('textbox', { name: 'Message' }).fill('the recording');
  await bob!.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(bob!.getByRole('alert')).toHaveText('video.dat is too large: the host allows 1 MB.');
  // In Turkish the refusal is Turkish, the limit from the room's hello, not the host's English message.
  await bob!.getByRole('button', { name: 'Settings', exact: true }).click();
  await bob!.getByRole('combobox', { name: 'Language' }).selectOption('tr');
  await bob!.keyboard.press('Escape');
  const refusal = 'video.dat çok büyük: oda sahibi en fazla 1 MB boyutunda dosya kabul ediyor.';
  await expect(bob!.getByRole('alert')).toHaveText(refusal);
  // Sent again in Turkish: refused again, and given back to the composer.
  await bob!.getByRole('textbox', { name: 'Mesaj' }).press('Enter');
  await expect(bob!.getByRole('button', { name: 'video.dat dosyasını çıkar' })).toBeVisible();
  await expect(bob!.getByRole('alert')).toHaveText(refusal);
  await photographLooks(bob!, 'file refused tr', FILE_SCREEN_LOOKS);
  await bob!.getByRole('button', { name: 'Ayarlar', exact: true }).click();
  await bob!.getByRole('combobox', { name: 'Dil' }).selectOption('en');
  await bob!.keyboard.press('Escape');
  // Given back to the composer; a file under the limit goes.
  await bob!.getByRole('button', { name: 'Remove video.dat' }).click();
  await dropFiles(bob!, [{ name: 'notes.txt', text: 'the notes' }]);
  await captionAndSend(bob!, 'the notes instead');
  await expect(message(alice!, 'the notes instead').getByRole('group', { name: 'notes.txt' })).toBeVisible();

  // The next Host form has them, shown, not hidden behind the disclosure.
  await stopHosting(alice!);
  await expect(alice!.getByRole('button', { name: 'File limits' })).toHaveAttribute('aria-expanded', 'true');
  await expect(alice!.getByRole('textbox', { name: 'Largest file' })).toHaveValue('1 MB');
  await expect(alice!.getByRole('textbox', { name: 'All files together' })).toHaveValue('');
});
