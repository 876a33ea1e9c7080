/**
 * The files a profile keeps between runs: settings.json (what the forms and the
 * look remember; never a password) and session.json (one session token per
 * server, readable only by the owner and, in the desktop app where the OS offers
 * it, encrypted with the user's OS key, so a restarted app can log in again
 * without asking for the password), events.json (where each server's event log was
 * caught up to) and outbox.json (the messages sent and not yet stored).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Settings } from '../../src-shared/api.js';
import { settingsSchema } from '../../src-shared/api-schema.js';
import { DEFAULT_PORT } from '../../src-shared/protocol/limits.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { attachmentRef, messageId, target } from '../../src-shared/protocol/objects.js';
import type { OutboxItem } from '../client/outbox.js';

export const DEFAULT_SETTINGS: Settings = {
  lastHost: '',
  lastPort: DEFAULT_PORT,
  lastName: '',
  lastRoomName: 'Room',
  // Most people join a room someone else hosts.
  lastMode: 'join',
  language: 'system',
  theme: 'system',
  notifications: true,
  sendTyping: true,
  mutes: {},
  doNotDisturb: false,
};

export function ensureProfileDir(profileDir: string): void {
  mkdirSync(profileDir, { recursive: true, mode: 0o700 });
}

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
export function writeAtomically(file: string, value: unknown, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(temporary, file);
}

export function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Missing or damaged: the app starts from defaults rather than refusing to start.
    return undefined;
  }
}

export class SettingsFile {
  private readonly file: string;
  private current: Settings;

  constructor(profileDir: string) {
    this.file = join(profileDir, 'settings.json');
    this.current = SettingsFile.readValidFields(readJson(this.file));
  }

  get value(): Settings {
    return { ...this.current };
  }

  /** Applies the changes and saves; returns the new settings. */
  update(changes: Partial<Settings>): Settings {
    this.current = { ...this.current, ...changes };
    writeAtomically(this.file, this.current, 0o600);
    return this.value;
  }

  /** Keeps every stored field that is still valid, so one bad field does not reset the rest. */
  private static readValidFields(stored: unknown): Settings {
    const settings = { ...DEFAULT_SETTINGS };
    if (typeof stored !== 'object' || stored === null) return settings;
    for (const key of Object.keys(settingsSchema.shape) as (keyof Settings)[]) {
      const field = settingsSchema.shape[key].safeParse((stored as Record<string, unknown>)[key]);
      if (field.success) (settings as Record<keyof Settings, unknown>)[key] = field.data;
    }
    return settings;
  }
}

/**
 * Encrypts session tokens with a key the OS keeps for the user (Electron's safeStorage:
 * Keychain, DPAPI, libsecret/kwallet). Without one, tokens are stored as they are, in a
 * file only the user can read.
 */
export interface TokenSealer {
  seal(token: string): string;
  /** Throws when the text was not sealed with this user's key. */
  open(sealed: string): string;
}

interface SavedSession {
  /** The account name as the server spells it. */
  name: string;
  token?: string;
  /** The token as the sealer wrote it. */
  sealed?: string;
}

/** Session tokens by server ("host:port"), one account per server. */
export class SessionTokenFile {
  private readonly file: string;
  private readonly sessions: Map<string, SavedSession>;

  constructor(
    profileDir: string,
    private readonly sealer?: TokenSealer,
  ) {
    this.file = join(profileDir, 'session.json');
    this.sessions = new Map();
    const stored = readJson(this.file);
    if (typeof stored !== 'object' || stored === null) return;
    for (const [server, session] of Object.entries(stored)) {
      if (typeof session?.name !== 'string') continue;
      if (typeof session.token === 'string') this.sessions.set(server, { name: session.name, token: session.token });
      else if (typeof session.sealed === 'string') this.sessions.set(server, { name: session.name, sealed: session.sealed });
    }
  }

  /** The token saved for this account on this server, if any (and if this app can open it). */
  tokenFor(server: string, name: string): string | undefined {
    const saved = this.sessions.get(server);
    if (!saved || nameKey(saved.name) !== nameKey(name)) return undefined;
    if (saved.token !== undefined) return saved.token;
    try {
      return saved.sealed !== undefined && this.sealer ? this.sealer.open(saved.sealed) : undefined;
    } catch {
      // Sealed by another user or OS key: only the password helps.
      return undefined;
    }
  }

  save(server: string, name: string, token: string): void {
    const saved = this.sessions.get(server);
    if (saved?.name === name && this.tokenFor(server, name) === token) return;
    this.sessions.set(server, { name, token });
    this.write();
  }

  forget(server: string): void {
    if (this.sessions.delete(server)) this.write();
  }

  private write(): void {
    const stored = Object.fromEntries(
      [...this.sessions].map(([server, session]) => [
        server,
        // A sealed token this app cannot open (the browser shell on the desktop app's profile) is kept as it is.
        session.token !== undefined && this.sealer ? { name: session.name, sealed: this.sealer.seal(session.token) } : session,
      ]),
    );
    writeAtomically(this.file, stored, 0o600);
  }
}

/**
 * events.json: per server, the account and the newest event log entry (docs/PROTOCOL.md §17.8)
 * the app has passed on to its windows, so the next start catches up on what changed while it
 * was closed (edits, deletes, reactions, read positions, messages) from there, each once.
 */
export class EventCursorFile {
  private readonly file: string;
  private readonly cursors = new Map<string, { name: string; lastEventId: number }>();

  constructor(profileDir: string) {
    this.file = join(profileDir, 'events.json');
    const stored = readJson(this.file);
    if (typeof stored !== 'object' || stored === null) return;
    for (const [server, cursor] of Object.entries(stored)) {
      if (typeof cursor?.name === 'string' && Number.isSafeInteger(cursor.lastEventId) && cursor.lastEventId > 0) {
        this.cursors.set(server, { name: cursor.name, lastEventId: cursor.lastEventId });
      }
    }
  }

  cursorFor(server: string, name: string): number | undefined {
    const cursor = this.cursors.get(server);
    return cursor && nameKey(cursor.name) === nameKey(name) ? cursor.lastEventId : undefined;
  }

  save(server: string, name: string, lastEventId: number): void {
    const cursor = this.cursors.get(server);
    if (lastEventId <= 0 || (cursor?.name === name && cursor.lastEventId === lastEventId)) return;
    this.cursors.set(server, { name, lastEventId });
    writeAtomically(this.file, Object.fromEntries(this.cursors), 0o600);
  }

  forget(server: string): void {
    if (this.cursors.delete(server)) writeAtomically(this.file, Object.fromEntries(this.cursors), 0o600);
  }
}

const outboxItem = z.object({
  clientMsgId: z.string().min(1),
  to: target,
  text: z.string(),
  replyTo: messageId.optional(),
  attachments: z.array(attachmentRef).min(1).optional(),
  tried: z.literal(true).optional(),
});

/**
 * outbox.json: per server and account (by name key), in the order sent, the messages given to send()
 * that the host has not stored or refused for good yet, so the next start sends them again under the
 * same client ids (a host that stored one already answers with it, PROTOCOL.md §7.4). Written before a
 * message goes out, so quitting or a crash at any moment loses none.
 */
export class OutboxFile {
  private readonly file: string;
  private readonly queues = new Map<string, Map<string, OutboxItem[]>>();

  constructor(profileDir: string) {
    this.file = join(profileDir, 'outbox.json');
    const stored = readJson(this.file);
    if (typeof stored !== 'object' || stored === null) return;
    for (const [server, accounts] of Object.entries(stored)) {
      if (typeof accounts !== 'object' || accounts === null) continue;
      for (const [account, items] of Object.entries(accounts as Record<string, unknown>)) {
        // One damaged entry costs that message, not the others.
        const valid = (Array.isArray(items) ? items : []).flatMap((item: unknown) => {
          const parsed = outboxItem.safeParse(item);
          return parsed.success ? [parsed.data as OutboxItem] : [];
        });
        if (valid.length > 0) this.queueOf(server, account).push(...valid);
      }
    }
  }

  itemsFor(server: string, name: string): OutboxItem[] {
    return [...(this.queues.get(server)?.get(nameKey(name)) ?? [])];
  }

  find(server: string, name: string, clientMsgId: string): OutboxItem | undefined {
    return this.queues.get(server)?.get(nameKey(name))?.find((item) => item.clientMsgId === clientMsgId);
  }

  /** Kept in memory even when the file cannot be written (then it throws): it is still sent while the app runs. */
  add(server: string, name: string, item: OutboxItem): void {
    this.queueOf(server, nameKey(name)).push(item);
    this.write();
  }

  /** The message went out (OutboxItem.tried); written only the first time. */
  markTried(server: string, name: string, clientMsgId: string): void {
    const item = this.find(server, name, clientMsgId);
    if (!item || item.tried) return;
    item.tried = true;
    this.write();
  }

  /** Answers whether the message was held. */
  remove(server: string, name: string, clientMsgId: string): boolean {
    const queue = this.queues.get(server)?.get(nameKey(name));
    const index = queue?.findIndex((item) => item.clientMsgId === clientMsgId) ?? -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    this.write();
    return true;
  }

  private queueOf(server: string, account: string): OutboxItem[] {
    let accounts = this.queues.get(server);
    if (!accounts) this.queues.set(server, (accounts = new Map()));
    let queue = accounts.get(account);
    if (!queue) accounts.set(account, (queue = []));
    return queue;
  }

  private write(): void {
    const stored = Object.fromEntries(
      [...this.queues].flatMap(([server, accounts]) => {
        const held = [...accounts].filter(([, items]) => items.length > 0);
        return held.length > 0 ? [[server, Object.fromEntries(held)]] : [];
      }),
    );
    writeAtomically(this.file, stored, 0o600);
  }
}
