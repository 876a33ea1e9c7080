/**
 * A room whose host has accounts made beforehand (registering many over the wire would pass its
 * limit of new accounts per address), and wire clients for them: for the specs of big and busy rooms.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { ChatClient } from '../src-main/client/client.js';
import { hashPassword } from '../src-main/server/password.js';
import { openStore } from '../src-main/store/store.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { nameSkeleton } from '../src-shared/text.js';
import type { Fixtures } from './fixtures.js';
import { freePort, hostRoom } from './ui.js';

const PASSWORD = 'one password for every seeded account';

/** alice hosts "Lab" with the accounts `names`; `client(name)` is a ChatClient for one of them, not connected yet. */
export async function hostWithAccounts(shells: Fixtures['shells'], names: readonly string[]): Promise<{ page: Page; client(name: string): ChatClient }> {
  const passwordHash = await hashPassword(PASSWORD);
  const [alice] = await shells(['alice'], (_name, profileDir) => seedAccounts(profileDir, names, passwordHash));
  const page = alice!.page;
  const port = await freePort();
  await hostRoom(page, { room: 'Lab', port, name: 'alice' });
  return { page, client: (name) => new ChatClient({ host: '127.0.0.1', port, name, password: PASSWORD, reconnect: false }) };
}

async function seedAccounts(profileDir: string, names: readonly string[], passwordHash: string): Promise<void> {
  const dataDir = join(profileDir, 'host');
  mkdirSync(dataDir, { recursive: true });
  const store = openStore(join(dataDir, 'chat.sqlite'));
  try {
    for (const name of names) store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: Date.now() });
  } finally {
    await store.close();
  }
}
