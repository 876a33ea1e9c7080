/**
 * The one fixture every server test uses: a data folder, the host on it (start,
 * restart, stop), named users, raw sockets, the server log, and cleanup of all
 * of it after each test. `useRoom()` registers the cleanup with vitest.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach } from 'vitest';
import type { ChatClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import { ClientError } from '../client/errors.js';
import type { Host, HostOptions } from '../core/host.js';
import { RawPeer, login, removeDir, startTestHost, tempDir, waitFor } from './harness.js';

export class Room {
  private started: Host | null = null;
  private readonly clients: ChatClient[] = [];
  private readonly peers: RawPeer[] = [];

  constructor(readonly dir: string = tempDir()) {}

  get host(): Host {
    if (!this.started) throw new Error('the room has no running host; call start() first');
    return this.started;
  }

  get port(): number {
    return this.host.address.port;
  }

  /** Starts the host on the room's folder and waits until its access mode is in force. */
  start = async (options: Partial<HostOptions> = {}): Promise<Host> => {
    this.started = await startTestHost(this.dir, options);
    await this.started.server.ready;
    return this.started;
  };

  /** Stops the host and starts it again on the same folder; its users' clients reconnect if they can. */
  restart = async (options: Partial<HostOptions> = {}): Promise<Host> => {
    await this.stop();
    return this.start(options);
  };

  stop = async (): Promise<void> => {
    const host = this.started;
    this.started = null;
    await host?.stop();
  };

  /** A logged-in client for the name (password `<name>-secret` unless given); closed at cleanup. */
  user = async (name: string, password = `${name}-secret`, options: Partial<ClientOptions> = {}): Promise<ChatClient> =>
    this.track(await login(this.host, name, password, options));

  /** The error code a login of the name is refused with, or 'no error'. */
  loginError = async (name: string, password = `${name}-secret`, options: Partial<ClientOptions> = {}): Promise<string> => {
    try {
      (await this.user(name, password, options)).close();
    } catch (error) {
      if (error instanceof ClientError) return error.code;
      throw error;
    }
    return 'no error';
  };

  /** Closes the client at cleanup. */
  track = (client: ChatClient): ChatClient => {
    this.clients.push(client);
    return client;
  };

  /** A raw TLS socket (from another loopback address if given); destroyed at cleanup. */
  raw = async (localAddress?: string): Promise<RawPeer> => this.trackPeer(await RawPeer.open(this.port, localAddress));

  /** A raw plain-TCP socket; destroyed at cleanup. */
  rawPlain = async (): Promise<RawPeer> => this.trackPeer(await RawPeer.openPlain(this.port));

  trackPeer = (peer: RawPeer): RawPeer => {
    this.peers.push(peer);
    return peer;
  };

  /**
   * Resolves once the host has no connection of the user left. Presence cannot tell this:
   * a user online for less than its window is never announced (PROTOCOL.md §8.2).
   */
  gone = (name: string): Promise<void> =>
    waitFor(
      // A closing connection leaves the list before its socket has closed; the log's `disconnect`
      // comes with the close, when the roster lets the user go.
      () =>
        !this.host.server.admin.connections().some((c) => c.name === name) &&
        this.logEvents().some((e) => e.event === 'disconnect' && e['user'] === name),
      `${name}'s connections to close`,
    );

  /** The server log as written so far. */
  logText = (): string => readFileSync(this.host.logFile, 'utf8');

  /** The server log's entries, parsed. */
  logEvents = (): Record<string, unknown>[] =>
    this.logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  closeClients = (): void => {
    for (const client of this.clients.splice(0)) client.close();
  };

  async cleanup(): Promise<void> {
    this.closeClients();
    for (const peer of this.peers.splice(0)) peer.destroy();
    await this.stop();
    removeDir(this.dir);
  }
}

/**
 * A fresh room for each test, cleaned up after it. With `start`, the host is started
 * before each test with those options; without, each test starts it itself.
 */
export function useRoom(options: { start?: Partial<HostOptions> } = {}): Room {
  let current: Room | null = null;
  beforeEach(async () => {
    current = new Room();
    if (options.start) await current.start(options.start);
  });
  afterEach(async () => {
    await current?.cleanup();
    current = null;
  });
  // Every property is looked up on the current test's room.
  return new Proxy({} as Room, {
    get: (_target, property) => {
      if (!current) throw new Error('useRoom(): the room exists only inside a test');
      const value = Reflect.get(current, property, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
