import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../testing/harness.js';
import { MediaPermissions, roomKey, shareChoices } from './media-permissions.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
function profile(): string {
  const dir = tempDir('lanchat-media-');
  dirs.push(dir);
  return dir;
}

const LAB = roomKey('Lab', { host: '192.168.1.20', port: 7171 });
const OTHER_LAB = roomKey('Lab', { host: '192.168.1.99', port: 7171 });

describe('media permissions for calls (issue 39)', () => {
  it('asks once per room, then allows that room only, and keeps it in the profile', () => {
    const dir = profile();
    const permissions = new MediaPermissions(dir);
    expect(permissions.decide({ permission: 'media', fromAppPage: true, room: LAB })).toBe('ask');
    permissions.grant(LAB);
    expect(permissions.decide({ permission: 'media', fromAppPage: true, room: LAB })).toBe('allow');
    expect(permissions.decide({ permission: 'display-capture', fromAppPage: true, room: LAB })).toBe('allow');
    // Another room of the same name at another address asks again.
    expect(permissions.decide({ permission: 'media', fromAppPage: true, room: OTHER_LAB })).toBe('ask');
    const again = new MediaPermissions(dir);
    expect(again.allowed({ permission: 'media', fromAppPage: true, room: LAB })).toBe(true);
    again.revoke(LAB);
    expect(new MediaPermissions(dir).decide({ permission: 'media', fromAppPage: true, room: LAB })).toBe('ask');
  });

  it('refuses everything that is not a call of the app page in a room', () => {
    const permissions = new MediaPermissions(profile());
    permissions.grant(LAB);
    expect(permissions.decide({ permission: 'notifications', fromAppPage: true, room: LAB })).toBe('deny');
    expect(permissions.decide({ permission: 'geolocation', fromAppPage: true, room: LAB })).toBe('deny');
    expect(permissions.decide({ permission: 'media', fromAppPage: false, room: LAB })).toBe('deny');
    expect(permissions.decide({ permission: 'media', fromAppPage: true, room: null })).toBe('deny');
  });

  it('reads a damaged file as no grants', () => {
    const dir = profile();
    writeFileSync(join(dir, 'media-permissions.json'), '{"rooms": [1, 2]');
    expect(new MediaPermissions(dir).decide({ permission: 'media', fromAppPage: true, room: LAB })).toBe('ask');
  });

  it('offers screens first, then named windows, a bounded list', () => {
    const sources = [
      { id: 'window:1:0', name: 'Editor' },
      { id: 'screen:0:0', name: 'Screen 1' },
      { id: 'window:2:0', name: ' ' },
      { id: 'screen:1:0', name: 'Screen 2' },
    ];
    expect(shareChoices(sources).map((source) => source.name)).toEqual(['Screen 1', 'Screen 2', 'Editor']);
    expect(shareChoices(sources, 1)).toHaveLength(1);
  });
});
