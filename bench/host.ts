/**
 * The bench's server process: the real host (startHost) over a data folder, in its
 * own process so the bench can read its peak memory and restart it.
 * TLS unless --plain; no per-connection rate limits. Prints `listening <port>` when ready;
 * stops cleanly on SIGTERM. Answers the bench's probe (bench/probe.ts) from when it listens.
 */
import { parseArgs } from 'node:util';
import { startHost } from '../src-main/core/host.js';
import { installProbe } from './probe.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    port: { type: 'string', default: '0' },
    heartbeat: { type: 'string', default: '20' },
    plain: { type: 'boolean', default: false },
    /** The largest file the host takes, in MB (the files workload sends one larger than the default). */
    'max-file-mb': { type: 'string' },
    /** A node of a clustered room (bench/cluster.ts): its database and NATS server. */
    postgres: { type: 'string' },
    nats: { type: 'string' },
    /** Members a group may have (the e2ee workload adds 200, over the default). */
    'max-members': { type: 'string' },
  },
});
if (!values.data) throw new Error('--data <dir> is required');

const host = await startHost({
  dataDir: values.data,
  port: Number(values.port),
  bind: '127.0.0.1',
  heartbeatTimeoutMs: Number(values.heartbeat) * 1000,
  tls: !values.plain,
  // Workloads send "as fast as the protocol lets them": a host expecting such load raises its
  // per-connection limits, as this one does (the default 100 frames/s would be what is measured).
  rateLimits: { framesPerSecond: Infinity, frameBurst: Infinity, bytesPerSecond: Infinity, byteBurst: Infinity },
  limits: { changesPerMinute: 1_000_000_000, ...(values['max-members'] ? { maxGroupMembers: Number(values['max-members']) } : {}) },
  // The bench's NATS is an open one on loopback: what is measured is the nodes, not TLS to NATS.
  ...(values.postgres ? { cluster: { postgres: values.postgres, ...(values.nats ? { nats: [values.nats], insecureBus: true } : {}) } } : {}),
  ...(values['max-file-mb'] ? { files: { limits: { maxFileBytes: Number(values['max-file-mb']) * 1024 * 1024 } } } : {}),
});
// The handler comes first: a SIGTERM right after "listening" must find it.
process.once('SIGTERM', () => {
  host.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
installProbe();
console.log(`listening ${host.address.port}`);
