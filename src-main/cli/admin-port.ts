/**
 * The host's admin HTTP port (docs/DEPLOYMENT.md, "Health and metrics"): `/healthz` (the process
 * answers), `/readyz` (the database answers, the bus is connected, the disk has room; 503 while the
 * node drains) and `/metrics` (Prometheus text, through prom-client). Every gauge is read when
 * scraped; the hot path only bumps plain counters (Roster's, the commit hook's). With a token, also
 * the admin API, `POST /admin` (admin-api.ts).
 */
import { statfs } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Host } from '../core/host.js';
import { ADMIN_PATH, type AdminApi } from './admin-api.js';

/** Below this much free space a node is not ready: a send it cannot store is better sent to another node. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;
/** How long /readyz waits for the database before calling it unusable. */
const PROBE_TIMEOUT_MS = 2000;

/** The metrics of one host: made before it starts (its commits are timed from the first), watching it once it runs. */
export class HostMetrics {
  readonly registry = new Registry();
  private sends = 0;
  private readonly commits = new Histogram({
    name: 'lanchat_commit_seconds',
    help: 'Time to store one commit of sends (the sends of one event-loop turn) in the database',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** HostOptions.onCommit. */
  readonly onCommit = (seconds: number, stored: number): void => {
    this.commits.observe(seconds);
    this.sends += stored;
  };

  /** Reads the host's counts and state at each scrape. */
  watch(host: Host, draining: () => boolean): void {
    const registers = [this.registry];
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    };
    gauge('lanchat_connections', 'Open client connections to this node', () => host.server.counts.connections);
    counter('lanchat_logins_total', 'Logins on this node', () => host.server.counts.logins);
    counter('lanchat_sends_total', 'Messages stored through this node (resends of stored messages not counted)', () => this.sends);
    counter('lanchat_deliveries_total', "Message pushes written to this node's connections", () => host.server.counts.deliveries);
    gauge('lanchat_draining', '1 while the node drains (SIGTERM): /readyz answers 503', () => (draining() ? 1 : 0));
    gauge('lanchat_disk_free_bytes', 'Bytes free for the host on the file system of its data folder', () => freeBytes(host.logFile));
    if (host.filesStore !== null) {
      gauge('lanchat_files_stored_bytes', 'Bytes of files kept (contents and unfinished uploads), wherever they are kept', () => host.store.fileStorageUsed());
    }
    // In the database, files take the database's disk, which is PostgreSQL's to watch (and its operator's).
    if (host.filesDir !== null) {
      const filesDir = host.filesDir;
      gauge('lanchat_files_disk_free_bytes', 'Bytes free on the file system of the files folder', () => freeBytes(filesDir));
    }
    const pool = host.store.poolStats?.bind(host.store);
    if (pool) {
      new Gauge({
        name: 'lanchat_database_pool_connections',
        help: 'Database connections of this node: open, idle, and calls waiting for one',
        labelNames: ['state'],
        registers,
        collect() {
          const { total, idle, waiting } = pool();
          this.set({ state: 'open' }, total);
          this.set({ state: 'idle' }, idle);
          this.set({ state: 'waiting' }, waiting);
        },
      });
    }
    const bus = host.bus;
    if (bus) {
      gauge('lanchat_bus_connected', '1 while the bus to the other nodes (NATS) is connected', () => (bus.connected ? 1 : 0));
      gauge('lanchat_bus_round_trip_seconds', 'Time a message takes to the bus and back (NaN while it is unreachable)', () =>
        bus.roundTripMs().then((ms) => ms / 1000, () => NaN),
      );
    }
  }
}

async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/** What /readyz found: each check "ok" or what is wrong. */
async function readiness(host: Host, draining: boolean): Promise<{ ready: boolean; checks: Record<string, string> }> {
  if (draining) return { ready: false, checks: { draining: 'the node is stopping: its clients move to other nodes' } };
  const checks: Record<string, string> = {};
  let timer: NodeJS.Timeout | undefined;
  checks.database = await Promise.race([
    host.store.databaseTime().then(() => 'ok'),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS))),
  ]).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  clearTimeout(timer);
  if (host.bus) checks.bus = host.bus.connected ? 'ok' : 'disconnected';
  for (const [name, path] of [['disk', host.logFile], ...(host.filesDir !== null ? [['files disk', host.filesDir]] : [])] as const) {
    const free = await freeBytes(path).catch(() => -1);
    checks[name] = free >= MIN_FREE_BYTES ? 'ok' : free < 0 ? `cannot read the free space of ${path}` : `only ${free} bytes free`;
  }
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}

export interface AdminPort {
  address: AddressInfo;
  /** Set once the node drains: /readyz answers 503 from then on. */
  draining: boolean;
  close(): Promise<void>;
}

/** Serves the admin port for the host; `metrics` must have been the host's onCommit. `api`: the admin API, if a token turned it on. */
export async function startAdminPort(host: Host, metrics: HostMetrics, port: number, bind: string, api: AdminApi | null = null): Promise<AdminPort> {
  const admin = { draining: false } as AdminPort;
  metrics.watch(host, () => admin.draining);
  const server = createServer((request, response) => {
    const reply = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    const path = new URL(request.url ?? '/', 'http://admin').pathname;
    if (path === ADMIN_PATH) {
      if (!api) return reply(404, 'text/plain', 'the admin API is off: the host has no admin-token (docs/DEPLOYMENT.md, "Remote administration")\n');
      return void api.handle(request, response);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'text/plain', 'GET only\n');
    const answered = (promise: Promise<void>): void =>
      void promise.catch((error: unknown) => reply(500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`));
    if (path === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      return answered(
        readiness(host, admin.draining).then(({ ready, checks }) =>
          reply(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, ...checks })}\n`),
        ),
      );
    }
    if (path === '/metrics') return answered(metrics.registry.metrics().then((text) => reply(200, metrics.registry.contentType, text)));
    reply(404, 'text/plain', 'the admin port serves /healthz, /readyz, /metrics and POST /admin\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: bind }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  admin.address = server.address() as AddressInfo;
  admin.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  server.on('error', (error) => host.log.error('admin port error', { error: String(error) }));
  return admin;
}
