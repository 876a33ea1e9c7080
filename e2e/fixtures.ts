/**
 * Users for a spec: each gets its own browser-shell process and profile, stopped and
 * removed after the test however it ends.
 */
import { test as base } from '@playwright/test';
import { type ShellUser, removeHomes, startShell } from './shell.js';
import { freePort, hostRoom, joinRoom } from './ui.js';

export interface Room {
  port: number;
  /** The first user hosts; the others have joined. */
  users: ShellUser[];
}

export interface Fixtures {
  /**
   * Starts shells for these users (none in a room yet); `prepare` may fill a profile folder first,
   * `pageScript` runs in each page before the app.
   */
  shells(names: string[], prepare?: (name: string, profileDir: string) => void | Promise<void>, pageScript?: () => void): Promise<ShellUser[]>;
  /** Starts shells, the first hosts a room named "Lab", the rest join it. */
  room(names: string[], pageScript?: () => void): Promise<Room>;
}

export const test = base.extend<Fixtures>({
  shells: async ({ browser }, use) => {
    const started: ShellUser[] = [];
    await use(async (names, prepare, pageScript) => {
      const users = await Promise.all(
        names.map((name) => startShell(browser, name, prepare && ((profileDir) => prepare(name, profileDir)), undefined, pageScript)),
      );
      started.push(...users);
      return users;
    });
    await Promise.all(started.map((user) => user.stop()));
    removeHomes();
  },
  room: async ({ shells }, use) => {
    await use(async (names, pageScript) => {
      const port = await freePort();
      const users = await shells(names, undefined, pageScript);
      await hostRoom(users[0]!.page, { room: 'Lab', port, name: users[0]!.name });
      for (const user of users.slice(1)) await joinRoom(user.page, { port, name: user.name });
      return { port, users };
    });
  },
});

export { expect } from '@playwright/test';
