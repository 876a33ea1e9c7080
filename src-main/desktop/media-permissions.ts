/**
 * Which media the desktop app's page may use (issue 39): the microphone and camera (Electron's
 * 'media' permission) and a screen or window shared ('display-capture', desktopCapturer), for calls
 * only, and per room: the first call in a room asks the user, and what they allowed holds for that
 * room alone (media-permissions.json in the profile). Anything else the page asks for is refused, as
 * before calls (notifications come from the main process). Plain, so it is tested without Electron.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { readJson, writeAtomically } from '../core/profile-files.js';

/** The permissions a call needs; Electron's names. */
const CALL_PERMISSIONS = new Set(['media', 'display-capture']);
/** Rooms kept at most: a profile that entered more forgets the oldest grants first. */
const MAX_ROOMS = 200;

export interface MediaRequest {
  /** Electron's permission name. */
  permission: string;
  /** Whether it comes from the app's own page (never from a page a link opened). */
  fromAppPage: boolean;
  /** The room the app is in now (roomKey), or null when in none. */
  room: string | null;
}

/** allow and deny at once; ask the user, then grant() what they allowed. */
export type MediaDecision = 'allow' | 'deny' | 'ask';

/** A room as grants are kept: its name at its address, so a room of the same name elsewhere asks again. */
export function roomKey(roomName: string, server: { host: string; port: number }): string {
  return `${roomName} @ ${server.host}:${server.port}`;
}

const grantsSchema = z.strictObject({ rooms: z.array(z.string().max(400)).max(MAX_ROOMS) });

export class MediaPermissions {
  private readonly file: string;
  private rooms: string[];

  constructor(profileDir: string) {
    this.file = join(profileDir, 'media-permissions.json');
    const stored = grantsSchema.safeParse(readJson(this.file));
    this.rooms = stored.success ? stored.data.rooms : [];
  }

  decide(request: MediaRequest): MediaDecision {
    if (!CALL_PERMISSIONS.has(request.permission) || !request.fromAppPage || request.room === null) return 'deny';
    return this.rooms.includes(request.room) ? 'allow' : 'ask';
  }

  /** Whether a permission check (no prompt possible) passes now. */
  allowed(request: MediaRequest): boolean {
    return this.decide(request) === 'allow';
  }

  grant(room: string): void {
    this.rooms = [...this.rooms.filter((kept) => kept !== room), room].slice(-MAX_ROOMS);
    writeAtomically(this.file, { rooms: this.rooms }, 0o600);
  }

  revoke(room: string): void {
    this.rooms = this.rooms.filter((kept) => kept !== room);
    writeAtomically(this.file, { rooms: this.rooms }, 0o600);
  }
}

/** What the screen-sharing chooser offers: screens first, then windows, each once, at most `most`. */
export function shareChoices<S extends { id: string; name: string }>(sources: S[], most = 12): S[] {
  const screens = sources.filter((source) => source.id.startsWith('screen:'));
  const windows = sources.filter((source) => !source.id.startsWith('screen:') && source.name.trim() !== '');
  return [...screens, ...windows].slice(0, most);
}
