/**
 * The history checker from the command line: `npm run checker -- [--seed N] [--runs N]
 * [--operations N] [--users N] [--faults kill,link-cut]`. Prints each run's seed as it
 * starts, every anomaly with its detail, then a JSON summary; exits 1 on any anomaly.
 */
import { parseArgs } from 'node:util';
import type { Anomaly } from './check.js';
import { type FaultKind, SINGLE_HOST_FAULTS, runSingleHost } from './single-host.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string', default: '1' },
    operations: { type: 'string', default: '400' },
    users: { type: 'string', default: '4' },
    faults: { type: 'string', default: SINGLE_HOST_FAULTS.join(',') },
  },
});

const faults = values.faults.split(',').filter(Boolean) as FaultKind[];
for (const fault of faults) if (!SINGLE_HOST_FAULTS.includes(fault)) throw new Error(`unknown fault "${fault}": one of ${SINGLE_HOST_FAULTS.join(', ')}`);
const firstSeed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const summary = { topology: 'single-host', runs: 0, operations: 0, faults: {} as Record<string, number>, anomalies: {} as Record<string, number>, seeds: [] as number[] };
const found: Anomaly[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const seed = firstSeed + run;
  console.log(`run ${run + 1}: seed ${seed}`);
  const result = await runSingleHost({ seed, users: Number(values.users), operations: Number(values.operations), faults });
  summary.runs++;
  summary.operations += result.operations;
  for (const [kind, n] of Object.entries(result.faults)) summary.faults[kind] = (summary.faults[kind] ?? 0) + n;
  for (const anomaly of result.anomalies) {
    summary.anomalies[anomaly.kind] = (summary.anomalies[anomaly.kind] ?? 0) + 1;
    console.log(JSON.stringify(anomaly));
  }
  if (result.anomalies.length > 0) summary.seeds.push(seed);
  found.push(...result.anomalies);
}
console.log(JSON.stringify(summary, null, 2));
process.exitCode = found.length > 0 ? 1 : 0;
