import { expect, test } from './fixtures.js';
import { freePort, submitJoin } from './ui.js';
import { photograph } from './photos.js';

test('joining shows specific errors: wrong password, a look-alike name, a refused name, nothing listening', async ({ room, shells }) => {
  const { port } = await room(['alice', 'bob']);
  const [mallory] = await shells(['mallory']);
  const page = mallory!.page;
  const alert = page.getByRole('alert');

  await submitJoin(page, { port, name: 'bob', password: 'not bobs password' });
  await expect(alert).toContainText('Wrong password.');
  await photograph(page, 'wrong password');

  // "bоb" with a Cyrillic о: a look-alike of an existing name is refused.
  await submitJoin(page, { port, name: 'b\u043eb', password: 'anything' });
  await expect(alert).toContainText('That name is taken.');

  // A right-to-left override could make a name read as another.
  await submitJoin(page, { port, name: 'mal\u202Elory', password: 'anything' });
  await expect(alert).toContainText('That name cannot be used.');

  await submitJoin(page, { port: await freePort(), name: 'mallory' });
  await expect(alert).toContainText('Could not connect to the host.');
  await expect(page.getByRole('tab', { name: 'Join room' })).toBeVisible();
});
