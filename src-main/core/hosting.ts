/**
 * The room this app hosts, if any: starts and stops it, keeps its log for the
 * host panel, announces who is connected (grouped by name), waiting or banned,
 * and carries out the host's admin actions on the server.
 */
import { networkInterfaces } from 'node:os';
import type {
  AppEvent,
  HostAdminAction,
  HostAdminResult,
  HostBan,
  HostInfo,
  HostLogEntry,
  HostRequest,
  HostSilentAccounts,
  HostUser,
  PendingUser,
  Result,
} from '../../src-shared/api.js';
import type { FileLimits } from '../../src-shared/protocol/limits.js';
import { ServerError } from '../server/errors.js';
import type { ChatServer } from '../server/server.js';
import { coalesce } from './coalesce.js';
import { NOT_HOSTING, describeHostError, fail, ok, sentence } from './errors.js';
import { type Host, startHost } from './host.js';

/** Host log entries kept for a host panel that opens late. */
const HOST_LOG_CAPACITY = 500;

interface Running {
  host: Host;
  info: HostInfo;
  stopLogFeed: () => void;
}

export class Hosting {
  private running: Running | null = null;
  private readonly logEntries: HostLogEntry[] = [];
  private readonly announceUsers = coalesce(() => this.announce((server) => ({ type: 'hostUsers', users: hostUsers(server) })));
  private readonly announcePending = coalesce(() => this.announce(async (server) => ({ type: 'hostPending', users: await server.admin.pending() })));
  private readonly announceBans = coalesce(() => this.announce(async (server) => ({ type: 'hostBans', bans: await server.admin.bans() })));

  constructor(
    private readonly dataDir: string,
    private readonly emit: (event: AppEvent) => void,
    private readonly passwordCost?: number,
  ) {}

  /** What joiners need to know, while hosting. */
  get info(): HostInfo | null {
    return this.running ? { ...this.running.info, addresses: [...this.running.info.addresses] } : null;
  }

  /** Starts the room server; the host's own account is protected from admin actions and the access mode. */
  async start(request: HostRequest): Promise<Result<HostInfo>> {
    let host: Host;
    try {
      host = await startHost({
        dataDir: this.dataDir,
        port: request.port,
        bind: '0.0.0.0',
        roomName: request.roomName,
        tls: request.tls ?? true,
        announce: request.announce ?? true,
        searchThreadAtOpening: true,
        passwordCost: this.passwordCost,
        files: { limits: definedLimits(request.fileLimits) },
        ...(request.access ? { access: { mode: request.access, ...(request.passphrase ? { passphrase: request.passphrase } : {}) } } : {}),
      });
      await host.server.ready;
    } catch (error) {
      return { ok: false, error: describeHostError(error, request.port) };
    }
    this.logEntries.length = 0;
    const stopLogFeed = host.log.subscribe((entry) => this.record(entry));
    const port = host.address.port;
    const addresses = lanAddresses(port);
    const info = { roomName: host.server.roomName, port, addresses, loopbackOnly: addresses.length === 0, fingerprint: host.fingerprint };
    this.running = { host, stopLogFeed, info };
    host.server.admin.protect(request.name);
    return ok(info);
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    await running.host.stop();
    running.stopLogFeed();
  }

  users(): Result<HostUser[]> {
    return this.running ? ok(hostUsers(this.running.host.server)) : NOT_HOSTING;
  }

  async pending(): Promise<Result<PendingUser[]>> {
    return this.running ? ok(await this.running.host.server.admin.pending()) : NOT_HOSTING;
  }

  async bans(): Promise<Result<HostBan[]>> {
    return this.running ? ok(await this.running.host.server.admin.bans()) : NOT_HOSTING;
  }

  async silentAccounts(olderThanMinutes?: number): Promise<Result<HostSilentAccounts>> {
    return this.running ? ok(await this.running.host.server.admin.silentAccounts(olderThanMinutes)) : NOT_HOSTING;
  }

  /** Kept after the room stops, so the panel can still show how it ended. */
  log(): HostLogEntry[] {
    return [...this.logEntries];
  }

  async admin(action: HostAdminAction): Promise<Result<HostAdminResult>> {
    if (!this.running) return NOT_HOSTING;
    try {
      return ok(await runHostAdmin(this.running.host.server, action));
    } catch (error) {
      if (error instanceof ServerError) return fail(error.code, sentence(error.message));
      throw error;
    }
  }

  private announce(event: (server: ChatServer) => AppEvent | Promise<AppEvent>): void {
    const running = this.running;
    if (!running) return;
    // A room that stopped meanwhile (its store closed) has nothing left to announce.
    Promise.resolve(event(running.host.server)).then(
      (found) => this.running === running && this.emit(found),
      () => undefined,
    );
  }

  private record(entry: HostLogEntry): void {
    this.logEntries.push(entry);
    if (this.logEntries.length > HOST_LOG_CAPACITY) this.logEntries.shift();
    this.emit({ type: 'hostLog', entry });
    // Every login and disconnect changes who is connected (and on how many devices),
    // not only the first and last one that presence reports. The server updates its
    // list right after logging, hence the deferred read.
    if (entry.event === 'login' || entry.event === 'disconnect' || entry.event === 'admin') this.announceUsers();
    if (entry.event === 'registration pending' || entry.event === 'admin') this.announcePending();
    if (entry.event === 'admin') this.announceBans();
  }
}

/** Only the limits given: one present but undefined would replace the host's default with nothing. */
function definedLimits(limits: HostRequest['fileLimits']): Partial<FileLimits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, value]) => value !== undefined));
}

/** "address:port" for every LAN IPv4 address of this machine. */
function lanAddresses(port: number): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => `${address.address}:${port}`);
}

/** Connected users, one entry per name with each connection's address and client. */
export function hostUsers(server: ChatServer): HostUser[] {
  const byName = new Map<string, HostUser>();
  for (const connection of server.admin.connections()) {
    let user = byName.get(connection.name);
    if (!user) {
      user = { name: connection.name, connections: 0, addresses: [], clients: [], muted: connection.muted };
      byName.set(connection.name, user);
    }
    user.connections += 1;
    user.addresses.push(connection.address);
    if (connection.client !== null) user.clients.push(connection.client);
  }
  return [...byName.values()];
}

type Action<K extends HostAdminAction['kind']> = Extract<HostAdminAction, { kind: K }>;

/** Each action on the server's admin; only resetPassword and purgeSilent answer with more than {}. */
const ACTIONS: { [K in HostAdminAction['kind']]: (admin: ChatServer['admin'], action: Action<K>) => unknown } = {
  kick: (admin, { user }) => admin.kick(user),
  ban: (admin, { user }) => admin.ban({ name: user }),
  banAddress: (admin, { address }) => admin.ban({ address }),
  unban: (admin, { user }) => admin.unban({ name: user }),
  unbanAddress: (admin, { address }) => admin.unban({ address }),
  mute: (admin, { user, minutes }) => admin.mute(user, minutes),
  unmute: (admin, { user }) => admin.unmute(user),
  approve: (admin, { user }) => admin.approve(user),
  reject: (admin, { user }) => admin.reject(user),
  resetPassword: (admin, { user, password }) => admin.resetPassword(user, password),
  purgeSilent: (admin, { olderThanMinutes }) => admin.purgeSilent(olderThanMinutes),
};

/** Runs one admin action; throws the server's ServerError when it is refused. */
export async function runHostAdmin(server: ChatServer, action: HostAdminAction): Promise<HostAdminResult> {
  const run = ACTIONS[action.kind] as (admin: ChatServer['admin'], action: HostAdminAction) => unknown;
  const value = await run(server.admin, action);
  if (action.kind === 'resetPassword') return { password: value as string };
  return action.kind === 'purgeSilent' ? { purged: value as number } : {};
}
