/**
 * Hosting a room: the store, the server log and the server over one data folder.
 * The headless host, the desktop app and the tests all start a room through here.
 */
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { type TlsIdentity, loadOrCreateIdentity } from '../net/tls.js';
import { type LogRotation, ServerLog } from '../server/log.js';
import type { Bus } from '../server/bus.js';
import type { ContentStore, ContentStoreKind } from '../server/file-store/contents.js';
import { FolderContents } from '../server/file-store/folder.js';
import { ChatServer, type ServerOptions } from '../server/server.js';
import type { FileOptions } from '../server/transfer.js';
import { holdDataFolder } from '../store/data-folder.js';
import { openAsyncStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/types.js';
import type { ClusterOptions } from './cluster.js';

/** Thousands of the longest messages a day: far beyond what a person types, small beside a disk. */
const DEFAULT_MAX_USER_BYTES_PER_DAY = 64 * 1024 * 1024;

export interface HostOptions extends Omit<ServerOptions, 'store' | 'log' | 'tls' | 'files'> {
  dataDir: string;
  port: number;
  bind?: string;
  /** TLS with the room's certificate (default). False serves plain TCP: nothing is encrypted. */
  tls?: boolean;
  /** Caps the database file; sends beyond it are refused with STORAGE_FULL as on a full disk. */
  maxDatabaseBytes?: number;
  /** Caps the bytes of message text one user may store per UTC day (default 64 MiB); beyond it, STORAGE_FULL. */
  maxUserBytesPerDay?: number;
  /** Announce the room on the local network (DNS-SD over multicast DNS) once it is ready. */
  announce?: boolean;
  /** A search thread from the start (StoreOptions.searchThreadAtOpening): the apps' hosts, not tests'. */
  searchThreadAtOpening?: boolean;
  /** Tests only: how long opening the database waits for another program's lock (2 s). */
  openLockWaitMs?: number;
  /** Files: limits and timings; they are kept in the data folder's `files` folder unless `filesDir` or `filesStore` say where. */
  files?: Omit<FileOptions, 'contents'>;
  /** The folder files are kept in; a cluster's nodes share one (a network file system). */
  filesDir?: string;
  /**
   * `postgres`: a cluster node keeps files in the room's database, where every node finds them. A cluster
   * node with neither this nor `filesDir` takes no files.
   */
  filesStore?: ContentStoreKind;
  /** A node of a clustered room: its database on PostgreSQL, the other nodes over NATS (core/cluster.ts). */
  cluster?: ClusterOptions;
  /** Told of every commit of sends: how long the store took, and how many new messages it stored (the admin port's metrics). */
  onCommit?: (seconds: number, stored: number) => void;
  /** server.log rotated by size; without it the file only grows (the apps' hosts, tests). */
  logRotation?: LogRotation;
}

/**
 * Whether the room is announced on the network: as which service instance (with the names found taken
 * before it, when it had to be renamed), or why not.
 */
export type AnnounceStatus = { on: true; instance: string; taken: string[] } | { on: false; reason: string };

export interface Host {
  server: ChatServer;
  store: AsyncStore;
  /** The link to the room's other nodes; null on a host alone. */
  bus: Bus | null;
  /** What keeps the room's files; null when it takes none. */
  filesStore: ContentStoreKind | null;
  /** The folder files are kept in; null in the database or when the room takes none. */
  filesDir: string | null;
  log: ServerLog;
  address: AddressInfo;
  logFile: string;
  /** SHA-256 fingerprint of the room's certificate; null when TLS is off. */
  fingerprint: string | null;
  /** Settles once the server is ready and the announcement sent (or not, and why). */
  announced: Promise<AnnounceStatus>;
  /** Withdraws the announcement (goodbye packets), closes every connection, stops listening and closes the database. */
  stop(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<Host> {
  const { dataDir, port, bind, tls = true, maxDatabaseBytes, maxUserBytesPerDay = DEFAULT_MAX_USER_BYTES_PER_DAY, announce = false, openLockWaitMs, searchThreadAtOpening, files, filesDir, filesStore, cluster, onCommit, logRotation, ...serverOptions } =
    options;
  if (filesStore === 'postgres' && (!cluster || filesDir !== undefined)) {
    throw new Error(filesDir !== undefined ? 'files are kept in a folder or in the database, not both' : 'files in the database need the room on PostgreSQL (cluster)');
  }
  if (filesStore === 'folder' && cluster && filesDir === undefined) throw new Error("a cluster's nodes keep files in one folder they share: filesDir");
  const folder = holdDataFolder(dataDir);
  const logFile = join(dataDir, 'server.log');
  let identity: TlsIdentity | null;
  let store: AsyncStore;
  let bus: Bus | undefined;
  let leaveCluster: (() => Promise<void>) | undefined;
  let log: ServerLog | undefined;
  let contents: ContentStore | undefined;
  try {
    identity = tls ? await loadOrCreateIdentity(dataDir) : null;
    if (cluster) {
      log = new ServerLog(logFile, logRotation);
      // Loaded only for a cluster node: PostgreSQL's and NATS's clients would lengthen every lone host's start.
      const { openClusterNode } = await import('./cluster.js');
      ({ store, bus, leave: leaveCluster } = await openClusterNode(cluster, identity?.fingerprint ?? null, log, { maxUserBytesPerDay }));
      if (filesStore === 'postgres') {
        const { PostgresContents } = await import('../server/file-store/postgres.js');
        contents = new PostgresContents(cluster.postgres);
      }
    } else {
      store = openAsyncStore(join(dataDir, 'chat.sqlite'), {
        maxUserBytesPerDay,
        // Reported from the indexer thread, which starts after this opening, when `log` below exists.
        onIndexHealth: (health) =>
          'failing' in health
            ? log?.error('search index failing', {
                error: health.failing,
                effect: 'searches read the messages instead, slower as more wait; with the host stopped, deleting chat.sqlite-search makes it build a new index',
              })
            : log?.info('search index working again'),
        ...(maxDatabaseBytes !== undefined ? { maxBytes: maxDatabaseBytes } : {}),
        ...(openLockWaitMs !== undefined ? { openLockWaitMs } : {}),
        ...(searchThreadAtOpening !== undefined ? { searchThreadAtOpening } : {}),
      });
      log = new ServerLog(logFile, logRotation);
    }
  } catch (error) {
    log?.close();
    folder.release();
    throw error;
  }
  if (onCommit) store = timedCommits(store, onCommit);
  // A cluster node without a shared store serves no files: one node's folder is not the others'.
  const filesFolder = filesDir ?? (cluster ? undefined : join(dataDir, 'files'));
  if (filesFolder !== undefined) contents = new FolderContents(filesFolder);
  const server = new ChatServer({
    ...serverOptions,
    store,
    log,
    tls: identity,
    maxUserBytesPerDay,
    ...(bus ? { bus } : {}),
    ...(contents ? { files: { ...files, contents } } : {}),
  });
  let address: AddressInfo;
  try {
    address = await server.listen(port, bind ?? '0.0.0.0');
  } catch (error) {
    await server.close();
    await contents?.close();
    await store.close();
    await leaveCluster?.();
    log.close();
    folder.release();
    throw error;
  }
  const announcement = announce
    ? server.ready.then(
        async () => {
          // Loaded only to announce: the mDNS stack (about 15 ms of loading) would lengthen every other host's start.
          const { announceRoom } = await import('../discovery/announce.js');
          return announceRoom(
            {
              roomName: server.roomName,
              protocol: PROTOCOL_VERSION,
              tls: identity !== null,
              access: server.accessMode,
              fingerprint: identity?.fingerprint ?? null,
              port: address.port,
            },
            (error) => log.warn('announce failed', { error: error.message }),
          );
        },
        // A room whose access mode failed to start is not announced; its caller reports why.
        (error: unknown) => ({ off: `the room did not start: ${error instanceof Error ? error.message : String(error)}` }),
      )
    : Promise.resolve({ off: 'announcing is turned off for this room' });
  let stopping: Promise<void> | null = null;
  return {
    server,
    store,
    bus: bus ?? null,
    filesStore: contents ? (contents.folder === null ? 'postgres' : 'folder') : null,
    filesDir: filesFolder ?? null,
    log,
    address,
    logFile,
    fingerprint: identity?.fingerprint ?? null,
    announced: announcement.then((result): AnnounceStatus => {
      if ('off' in result) {
        if (announce) log.info('not announced', { reason: result.off });
        return { on: false, reason: result.off };
      }
      log.info('announced', { instance: result.instance, ...(result.taken.length > 0 ? { taken: result.taken } : {}) });
      return { on: true, instance: result.instance, taken: result.taken };
    }),
    stop: () => {
      stopping ??= announcement
        .then((result) => ('stop' in result ? result.stop() : undefined))
        .then(() => server.close())
        .finally(async () => {
          await contents?.close();
          await store.close();
          await leaveCluster?.();
          log.close();
          folder.release();
        });
      return stopping;
    },
  };
}

/** The store, its commits of sends timed; only counting on the way (one commit holds a turn's sends). */
function timedCommits(store: AsyncStore, onCommit: (seconds: number, stored: number) => void): AsyncStore {
  const insertMessages = store.insertMessages;
  return {
    ...store,
    insertMessages: async (messages) => {
      const started = process.hrtime.bigint();
      const results = await insertMessages(messages);
      let stored = 0;
      for (const result of results) if ('message' in result && !result.duplicate) stored += 1;
      onCommit(Number(process.hrtime.bigint() - started) / 1e9, stored);
      return results;
    },
  };
}
