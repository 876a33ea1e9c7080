/**
 * `npm run bench [-- --quick] [-- --json] [-- --only a,b] [-- --plain]`: runs each workload against a
 * host in its own process and prints one result per workload (JSON lines with --json).
 */
import { parseArgs } from 'node:util';
import { burst, light } from './chat.js';
import { type Result, transport } from './common.js';
import { connections } from './connections.js';
import { history } from './history.js';
import { reconnect } from './reconnect.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    plain: { type: 'boolean', default: false },
  },
});
transport.tls = !values.plain;
const quick = values.quick;
const only = values.only?.split(',');

const workloads: [string, () => Promise<Result>][] = [
  ['baseline-light', () => light({ server: 'baseline', clients: quick ? 10 : 20, messagesEach: quick ? 10 : 20 })],
  ['light', () => light({ server: 'host', clients: quick ? 10 : 20, messagesEach: quick ? 10 : 20 })],
  ['baseline-burst', () => burst({ server: 'baseline', clients: quick ? 20 : 50, messagesEach: quick ? 50 : 200 })],
  ['burst', () => burst({ server: 'host', clients: quick ? 20 : 50, messagesEach: quick ? 50 : 200 })],
  ['connections', () => connections({ clients: quick ? 1000 : 10_000, holdSeconds: quick ? 5 : 60, chatters: 5 })],
  ['reconnect', () => reconnect({ clients: quick ? 200 : 1000, senders: 5 })],
  ['history', () => history({ messages: quick ? 100_000 : 1_000_000, users: 200, dms: 1000, groups: 50, queries: quick ? 20 : 50 })],
];

const results = new Map<string, Result>();
for (const [name, run] of workloads) {
  if (only && !only.includes(name)) continue;
  const result = await run();
  if (!name.startsWith('baseline')) result['tls'] = transport.tls;
  const floor = results.get(`baseline-${name}`);
  if (floor) addRatios(result, floor);
  results.set(name, result);
  console.log(values.json ? JSON.stringify(result) : format(result));
}

/** Each figure also as a multiple of the bare fan-out's. */
function addRatios(result: Result, floor: Result): void {
  for (const field of ['p50_ms', 'p99_ms', 'deliveries_per_s']) {
    const value = result[field];
    const base = floor[field];
    if (typeof value === 'number' && typeof base === 'number' && base > 0) {
      result[`${field}_vs_baseline`] = Math.round((value / base) * 100) / 100;
    }
  }
}

function format(result: Result): string {
  const { workload, ...fields } = result;
  return `${workload.padEnd(16)} ${Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
}
