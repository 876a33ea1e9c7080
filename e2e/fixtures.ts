/**
 * Users for a spec: each gets its own browser-shell process and profile, stopped and
 * removed after the test however it ends; or, with `sharedRoom`, one room for a spec file's tests.
 */
import { type TestInfo, test as base } from '@playwright/test';
import { type ShellUser, removeHomes, startShell } from './shell.js';
import { expectOnline, freePort, hostRoom, joinRoom } from './ui.js';

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
  shells: async ({ browser }, use, testInfo) => {
    const started: ShellUser[] = [];
    await use(async (names, prepare, pageScript) => {
      const users = await Promise.all(
        names.map((name) => startShell(browser, name, prepare && ((profileDir) => prepare(name, profileDir)), undefined, pageScript)),
      );
      started.push(...users);
      return users;
    });
    await attachOnFailure(testInfo, started);
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

/**
 * One room for all the tests of a spec file (call it at the file's top level): its shells start, the first
 * user hosts "Lab" and the others join before the first test, and stop after the last. A test's users then
 * cost nothing to start (a shell start, a page load, a host or a join each, about 5 s of CPU per user).
 * A test asks for the users it acts as; their pages are loaded again at the default size, so it starts on
 * fresh pages in the room; what it changes that outlives a reload (settings, conversations, messages) it
 * keeps apart from the other tests (its own conversation, words no other test searches for) or puts back.
 * A failed test ends its worker, so the tests after it start on a new room.
 */
export function sharedRoom(names: string[]): (...wanted: string[]) => Promise<ShellUser[]> {
  let users: ShellUser[] = [];
  const started: ShellUser[] = [];
  test.beforeAll(async ({ browser }) => {
    const port = await freePort();
    const all = await Promise.all(
      names.map(async (name) => {
        const user = await startShell(browser, name);
        started.push(user);
        return user;
      }),
    );
    await hostRoom(all[0]!.page, { room: 'Lab', port, name: all[0]!.name });
    for (const user of all.slice(1)) await joinRoom(user.page, { port, name: user.name });
    users = all;
  });
  test.afterEach(async ({ browserName: _browser }, testInfo) => attachOnFailure(testInfo, started));
  test.afterAll(async () => {
    await Promise.all(started.splice(0).map((user) => user.stop()));
    removeHomes();
  });
  return async (...wanted) => {
    const chosen = wanted.map((name) => users.find((user) => user.name === name) ?? raise(`${name} is not in the shared room`));
    for (const { page } of chosen) {
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.reload();
      await expectOnline(page);
    }
    return chosen;
  };
}

/** A failed test keeps what each user's shell and page printed (a page's console is not in its trace's actions). */
async function attachOnFailure(testInfo: TestInfo, users: ShellUser[]): Promise<void> {
  if (testInfo.status === testInfo.expectedStatus) return;
  for (const user of users) {
    await testInfo.attach(`${user.name}: shell output`, { body: user.output.join(''), contentType: 'text/plain' });
    await testInfo.attach(`${user.name}: page console`, { body: user.pageLog.join('\n'), contentType: 'text/plain' });
  }
}

function raise(message: string): never {
  throw new Error(message);
}

export { expect } from '@playwright/test';
