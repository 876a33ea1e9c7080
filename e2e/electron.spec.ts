/**
 * The two-user test in the desktop app itself. Runs where an Electron binary can start;
 * elsewhere (as on machines that cannot download it) it is skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ElectronApplication, _electron as electron, expect, test } from '@playwright/test';
import { checkElectron } from '../src-main/desktop/electron-check.js';
import { freePort, hostRoom, joinRoom, message, send } from './ui.js';

const root = join(import.meta.dirname, '..');
const electronCheck = checkElectron(root);
// The skip reason only shows in the HTML report; say it in the run's output too.
if (!electronCheck.ok) console.warn(`Electron e2e skipped: ${electronCheck.reason}`);

test.describe('Electron desktop app', () => {
  test.skip(!electronCheck.ok, `Electron cannot run here: ${electronCheck.ok ? '' : electronCheck.reason}`);

  const apps: ElectronApplication[] = [];
  const homes: string[] = [];

  test.beforeAll(() => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-main.ts'], { cwd: root, stdio: 'inherit' });
  });

  test.afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  });

  async function launch(profile: string) {
    if (!electronCheck.ok) throw new Error('unreachable: skipped above');
    const home = mkdtempSync(join(tmpdir(), `lanchat-electron-${profile}-`));
    homes.push(home);
    const app = await electron.launch({
      executablePath: electronCheck.executable,
      args: ['.', '--profile', profile],
      cwd: root,
      env: { ...process.env, LANCHAT_HOME: home },
    });
    apps.push(app);
    return app.firstWindow();
  }

  test('two profiles side by side: one hosts, the other joins, and they chat', async () => {
    const port = await freePort();
    const alice = await launch('alice');
    const bob = await launch('bob');
    await hostRoom(alice, { room: 'Desk', port, name: 'alice' });
    await joinRoom(bob, { port, name: 'bob' });
    await send(bob, 'hello from the desktop');
    await expect(message(alice, 'hello from the desktop')).toBeVisible();
    await send(alice, 'and back');
    await expect(message(bob, 'and back')).toBeVisible();
  });
});
