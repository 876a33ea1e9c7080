/** What a ChatClient is configured with (ClientOptions) and the defaults of what the caller may leave out. */
import type { OutboxItem } from './outbox.js';
import type { ServerAddress } from './addresses.js';

export interface ClientOptions {
  host: string;
  port: number;
  /**
   * More addresses of the same room (the nodes of a cluster, docs/PROTOCOL.md §19): with `host:port`,
   * tried in an order this client draws at random, so clients spread over the nodes; the same
   * certificate pin holds for all.
   */
  alternates?: ServerAddress[];
  /** Draws the order of the addresses (Math.random); `() => 0` keeps `host:port` first, then `alternates` as given. */
  random?: () => number;
  name: string;
  /** Needed for the first login; afterwards the session token is used. */
  password?: string;
  token?: string;
  /** The room passphrase, sent with a password login so a new account can be created in a passphrase room. */
  passphrase?: string;
  /** false: log in to an existing account only, never create one (default true). */
  create?: boolean;
  /** Highest message id already held (from the caller's own storage); history after it is fetched on login. */
  lastMessageId?: number;
  /** Newest event log entry already applied (ChatClient.lastEventId kept from before): catch-up then goes through the log. */
  lastEventId?: number;
  /**
   * Messages an earlier client accepted and did not see stored or refused (the app kept them across a
   * restart): queued first, under their client ids, so the host answers one it stored already with it
   * (PROTOCOL.md §7.4). Their outcome comes as 'sent', 'sendRetrying' or 'sendFailed' events.
   */
  unsent?: OutboxItem[];
  clientName?: string;
  reconnect?: boolean;
  /** First and largest wait between reconnect attempts. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** TLS (default), or plain TCP when false: only for a host that turned TLS off. */
  tls?: boolean;
  /**
   * The host's expected certificate fingerprint. Without one the first certificate
   * seen is trusted (read it from hostFingerprint to pin it); reconnects always
   * require the fingerprint of the first connection.
   */
  fingerprint?: string;
  /**
   * Checked before the first login: the room's name (hello) and certificate fingerprint (null without
   * TLS). That login then waits for hello's answer instead of going in the same write, so an error
   * returned here fails connect() with nothing but hello sent.
   */
  checkRoom?: (room: { name: string; fingerprint: string | null }) => Error | null;
}

/** The settings that keep for the client's life, every one given a value. */
export type ClientSettings = Required<
  Omit<ClientOptions, 'password' | 'token' | 'lastMessageId' | 'lastEventId' | 'fingerprint' | 'passphrase' | 'alternates' | 'random' | 'host' | 'port' | 'unsent' | 'checkRoom'>
>;

export function clientSettings(options: ClientOptions): ClientSettings {
  return {
    name: options.name,
    create: options.create ?? true,
    clientName: options.clientName ?? 'lanchat-client/0.1.0',
    reconnect: options.reconnect ?? true,
    backoffMinMs: options.backoffMinMs ?? 200,
    backoffMaxMs: options.backoffMaxMs ?? 5000,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    tls: options.tls ?? true,
  };
}
