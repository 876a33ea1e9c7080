import { expect, test } from './fixtures.js';
import { message, send } from './ui.js';

test('markup and script in a message are shown as text and never run', async ({ room }) => {
  const { users } = await room(['alice', 'bob']);
  const [alice, bob] = users.map((user) => user.page);
  const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold</b> <a href="javascript:window.pwned=3">link</a>`;

  await send(bob!, hostile);
  for (const page of [alice!, bob!]) {
    const shown = message(page, '<script>window.pwned=2</script>');
    await expect(shown).toContainText(hostile);
    await expect(shown.locator('img, script, b, a')).toHaveCount(0);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  }
  await alice!.getByRole('searchbox', { name: 'Search messages' }).fill('onerror');
  const hit = alice!.getByRole('list', { name: 'Search results' }).getByRole('button');
  await expect(hit).toContainText('<img src=x onerror=');
  await expect(hit.locator('img, script, b, a')).toHaveCount(0);
  expect(await alice!.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});
