/** Accounts put in a host's database before it starts: registering many over the wire would pass its limit of new accounts per address. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src-main/store/store.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { nameSkeleton } from '../src-shared/text.js';

/** For `shells(names, prepare)`: the accounts, each with the password whose hash is given, in the profile's host folder. */
export async function seedAccounts(profileDir: string, names: readonly string[], passwordHash: string): Promise<void> {
  const dataDir = join(profileDir, 'host');
  mkdirSync(dataDir, { recursive: true });
  const store = openStore(join(dataDir, 'chat.sqlite'));
  try {
    for (const name of names) store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: Date.now() });
  } finally {
    await store.close();
  }
}
