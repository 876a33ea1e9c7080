import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MUTED_MENTION_INTERVAL_MS, MutedMentions } from '../../src-shared/notify.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { removeDir, tempDir } from '../testing/harness.js';
import { badgeText, unreadDot, unreadFromTitle, withUnreadDot } from './badge.js';
import { clickTarget, notificationText, shouldNotify } from './notifications.js';
import { lockProfile } from './profile-lock.js';
import { type Rect, WindowStateFile, placeWindow } from './window-state.js';

const dirs: string[] = [];
const MUTED_UNTIL = 3_600_000;
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
function profile(): string {
  const dir = tempDir('lanchat-desktop-');
  dirs.push(dir);
  return dir;
}

const LIMITS = { width: 1100, height: 740, minWidth: 720, minHeight: 480 };
const LAPTOP: Rect = { x: 0, y: 0, width: 1440, height: 876 };
const MONITOR_RIGHT: Rect = { x: 1440, y: -200, width: 2560, height: 1400 };

describe('window state', () => {
  it('is saved in the profile and read back; a damaged or foreign file reads as none', () => {
    const dir = profile();
    const file = new WindowStateFile(dir);
    expect(file.read()).toBeUndefined();
    const state = { bounds: { x: 1600, y: 10, width: 1200, height: 800 }, maximized: true };
    file.save(state);
    expect(new WindowStateFile(dir).read()).toEqual(state);
    expect(statSync(join(dir, 'window.json')).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'window.json'), '{"bounds":{"x":"left"},"maximized":false}');
    expect(file.read()).toBeUndefined();
    writeFileSync(join(dir, 'window.json'), '{ not json');
    expect(file.read()).toBeUndefined();
  });

  it('opens where it was when that is still on a display', () => {
    const saved = { bounds: { x: 1700, y: 0, width: 1200, height: 800 }, maximized: false };
    expect(placeWindow(saved, [LAPTOP, MONITOR_RIGHT], LIMITS)).toEqual(saved);
  });

  it('moves back onto the display it overlaps most, shrunk to fit', () => {
    // Hanging off the laptop's right edge into where a monitor no longer is, and taller than the laptop.
    const saved = { bounds: { x: 1000, y: 300, width: 1200, height: 1000 }, maximized: true };
    expect(placeWindow(saved, [LAPTOP], LIMITS)).toEqual({ bounds: { x: 240, y: 0, width: 1200, height: 876 }, maximized: true });
  });

  it('is centred on the primary display when its display is gone, and never smaller than the minimum', () => {
    const saved = { bounds: { x: 3000, y: 100, width: 300, height: 200 }, maximized: false };
    expect(placeWindow(saved, [LAPTOP], LIMITS)).toEqual({ bounds: { x: 360, y: 198, width: 720, height: 480 }, maximized: false });
  });

  it('opens at the default size, centred, the first time', () => {
    expect(placeWindow(undefined, [MONITOR_RIGHT, LAPTOP], LIMITS)).toEqual({
      bounds: { x: 1440 + 730, y: -200 + 330, width: 1100, height: 740 },
      maximized: false,
    });
  });
});

describe('unread badge', () => {
  it('reads the count from the main window title', () => {
    expect(unreadFromTitle('(3) LanChat')).toBe(3);
    expect(unreadFromTitle('(120) LanChat')).toBe(120);
    expect(unreadFromTitle('LanChat')).toBe(0);
    expect(unreadFromTitle('bob – LanChat')).toBe(0);
    // A conversation named like a count does not fool it.
    expect(unreadFromTitle('(3)bob – LanChat')).toBe(0);
  });

  it('shows nothing at 0 and caps at 99+', () => {
    expect(badgeText(0)).toBe('');
    expect(badgeText(1)).toBe('1');
    expect(badgeText(99)).toBe('99');
    expect(badgeText(100)).toBe('99+');
  });

  it('draws a red disc, and puts it over the top-right quarter of the tray icon only', () => {
    const dot = unreadDot(16);
    const pixel = (image: Buffer, size: number, x: number, y: number) => [...image.subarray((y * size + x) * 4, (y * size + x) * 4 + 4)];
    // B, G, R, A: red in the middle, transparent in the corner.
    expect(pixel(dot, 16, 8, 8)).toEqual([0x25, 0x30, 0xd9, 255]);
    expect(pixel(dot, 16, 0, 0)[3]).toBe(0);

    const white = Buffer.alloc(32 * 32 * 4, 0xff);
    const marked = withUnreadDot(white, 32);
    expect(pixel(marked, 32, 24, 8)).toEqual([0x25, 0x30, 0xd9, 255]);
    expect(pixel(marked, 32, 8, 24)).toEqual([255, 255, 255, 255]);
    expect(pixel(marked, 32, 8, 8)).toEqual([255, 255, 255, 255]);
  });
});

describe('profile lock', () => {
  it('lets one process have a profile at a time, and the next one after it is released', () => {
    const dir = profile();
    const first = lockProfile(dir);
    expect(first.ok).toBe(true);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    // Another process asking: refused, and told who holds it.
    const other = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `import('./src-main/desktop/profile-lock.ts').then((m) => console.log(JSON.stringify(m.lockProfile(${JSON.stringify(dir)}))))`],
      { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') },
    );
    expect(JSON.parse(other.stdout)).toEqual({ ok: false, pid: process.pid });
    if (first.ok) first.release();
    const again = lockProfile(dir);
    expect(again.ok).toBe(true);
    if (again.ok) again.release();
  });

  it('takes over the lock of a process that is gone', () => {
    const dir = profile();
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'lock'), gone.stdout);
    const lock = lockProfile(dir);
    expect(lock.ok).toBe(true);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    if (lock.ok) lock.release();
  });
});

describe('notifications', () => {
  const message = (conv: string, from: string, text = 'hi'): ChatMessage => ({ id: 1, conv, from, text, ts: 0, clientMsgId: 'x' });

  it('notify of others’ messages out of view, when enabled', () => {
    const context = { me: 'alice', enabled: true, inView: false, doNotDisturb: false, mutes: {}, now: 0, mutedMentions: new MutedMentions() };
    expect(shouldNotify(message('room', 'bob'), context)).toBe(true);
    expect(shouldNotify(message('room', 'ALICE'), context)).toBe(false);
    expect(shouldNotify(message('room', 'bob'), { ...context, inView: true })).toBe(false);
    expect(shouldNotify(message('room', 'bob'), { ...context, enabled: false })).toBe(false);
    expect(shouldNotify(message('room', 'bob'), { ...context, me: null })).toBe(false);
  });

  it('stay quiet in a muted conversation unless it mentions you, and always with do-not-disturb', () => {
    const context = { me: 'alice', enabled: true, inView: false, doNotDisturb: false, mutes: { room: MUTED_UNTIL }, now: 1_000, mutedMentions: new MutedMentions() };
    expect(shouldNotify(message('room', 'bob'), context)).toBe(false);
    expect(shouldNotify({ ...message('room', 'bob'), mentions: ['alice'] }, context)).toBe(true);
    // Mentions in a loop ring once a minute, not each time (issue 33, item 8).
    expect(shouldNotify({ ...message('room', 'bob'), mentions: ['alice'] }, { ...context, now: 1_500 })).toBe(false);
    expect(shouldNotify({ ...message('room', 'bob'), mentions: ['alice'] }, { ...context, now: 1_000 + MUTED_MENTION_INTERVAL_MS })).toBe(true);
    expect(shouldNotify(message('room', 'bob'), { ...context, now: MUTED_UNTIL })).toBe(true);
    expect(shouldNotify(message('group:4', 'bob'), context)).toBe(true);
    expect(shouldNotify({ ...message('room', 'bob'), mentions: ['alice'] }, { ...context, doNotDisturb: true })).toBe(false);
  });

  it('say who and where in the UI’s language', () => {
    expect(notificationText(message('group:4', 'bob'), 'Cats', 'en')).toEqual({ title: 'bob in Cats', body: 'hi' });
    expect(notificationText(message('group:4', 'bob'), 'Cats', 'tr')).toEqual({ title: 'bob, Cats içinde', body: 'hi' });
    expect(notificationText(message('dm:1:2', 'bob', 'x'.repeat(300)), 'bob', 'en')).toEqual({ title: 'bob', body: `${'x'.repeat(199)}…` });
  });

  it('open the conversation in its own window when it has one, else in the main window', () => {
    expect(clickTarget('group:4', new Set(['group:4']))).toEqual({ window: 'chat', conv: 'group:4' });
    expect(clickTarget('room', new Set(['group:4']))).toEqual({ window: 'main', conv: 'room' });
  });
});
