/**
 * The bench's server process: the real host (startHost) over a data folder, in its
 * own process so the bench can read its peak memory and restart it.
 * Prints `listening <port>` when ready; stops cleanly on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startHost } from '../src-main/core/host.js';

const { values } = parseArgs({
  options: { data: { type: 'string' }, port: { type: 'string', default: '0' }, heartbeat: { type: 'string', default: '20' } },
});
if (!values.data) throw new Error('--data <dir> is required');

const host = await startHost({
  dataDir: values.data,
  port: Number(values.port),
  bind: '127.0.0.1',
  heartbeatTimeoutMs: Number(values.heartbeat) * 1000,
});
// The handler comes first: a SIGTERM right after "listening" must find it.
process.once('SIGTERM', () => {
  host.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
console.log(`listening ${host.address.port}`);
