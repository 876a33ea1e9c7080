/**
 * The history workload, and its ingest's floor, each in a Node process of its own. An ingest is timed
 * inside the process that inserts, so it must not pay for what earlier workloads of `npm run bench`
 * left in the bench's own process: after `connections`, 90,745 messages/s there against 96,523 in a
 * process of its own (docs/BENCHMARKS.md, "Ingest in a process of its own (ingest25)"). Run as a
 * script, this file is that process: it runs the workload and prints the result as its last line, in JSON.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Result, measure, transport } from './common.js';
import { type HistoryOptions, history, ingestFloor } from './history.js';

/** What the child needs of the run: the workload's options and the run's transport and measuring settings. */
interface Job {
  workload: 'history' | 'ingest-floor';
  options: HistoryOptions;
  tls: boolean;
  measure: typeof measure;
}

const self = fileURLToPath(import.meta.url);

export async function inOwnProcess(workload: Job['workload'], options: HistoryOptions): Promise<Result> {
  const job: Job = { workload, options, tls: transport.tls, measure };
  // execArgv carries tsx's loader when the bench runs through it, as `npm run bench` does.
  const child = spawn(process.execPath, [...process.execArgv, self, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = output.trim().split('\n').at(-1);
  if (code !== 0 || !last) throw new Error(`the ${workload} workload's process exited with ${code}`);
  return JSON.parse(last) as Result;
}

if (process.argv[1] === self) {
  const job = JSON.parse(process.argv[2]!) as Job;
  transport.tls = job.tls;
  Object.assign(measure, job.measure);
  console.log(JSON.stringify(await (job.workload === 'history' ? history(job.options) : ingestFloor(job.options))));
  // The store's indexer and search threads must not keep this process alive after its answer.
  process.exit(0);
}
