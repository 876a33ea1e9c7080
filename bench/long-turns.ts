/**
 * What ran in the host's long turns: for each turn of the loop over 15 ms that the probe recorded
 * beside a profile (`npm run bench -- --cpu-profile DIR`, bench/probe.ts), the functions on the
 * stack in most of its samples. A turn with few or no samples is the process waiting for a core,
 * not work of its own. Then the same summed over all long turns.
 * Run: npx tsx bench/long-turns.ts FILE.cpuprofile [turns shown, 8] [functions each, 12]
 */
import { readFileSync } from 'node:fs';
import { turnsFileOf } from './probe.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, shownTurns = '8', shownFunctions = '12'] = process.argv.slice(2);
if (!file) throw new Error('usage: long-turns.ts FILE.cpuprofile [turns] [functions]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
const turns = JSON.parse(readFileSync(turnsFileOf(file), 'utf8')) as [number, number][];

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const label = ({ callFrame }: ProfileNode): string =>
  `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/^.*\/(node_modules|src-main|src-shared|bench)\//, '$1/').replace(/^.*\//, '')}:${callFrame.lineNumber + 1}`;

/** Sample times in the clock of the turns (microseconds of the monotonic clock). */
const times: number[] = [];
let now = profile.startTime;
for (const delta of profile.timeDeltas) times.push((now += delta));

/** Samples on whose stack each function is, over the samples between `from` and `to`. */
function onStack(from: number, to: number): { samples: number; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  let samples = 0;
  times.forEach((time, index) => {
    if (time < from || time > to) return;
    samples += 1;
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[index]; id !== undefined; id = parents.get(id)) {
      const name = label(nodes.get(id)!);
      if (name.startsWith('(root)') || seen.has(name)) continue;
      seen.add(name);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  });
  return { samples, counts };
}

const top = (counts: Map<string, number>): [string, number][] => [...counts].sort((a, b) => b[1] - a[1]).slice(0, Number(shownFunctions));
const longest = [...turns].sort((a, b) => b[1] - b[0] - (a[1] - a[0]));
console.log(`${turns.length} turns over 15 ms; the longest ${Math.min(turns.length, Number(shownTurns))}:`);
const all = new Map<string, number>();
for (const [index, [from, to]] of longest.entries()) {
  const { samples, counts } = onStack(from, to);
  for (const [name, count] of counts) all.set(name, (all.get(name) ?? 0) + count);
  if (index >= Number(shownTurns)) continue;
  console.log(`turn of ${((to - from) / 1000).toFixed(1)} ms, ${samples} samples`);
  for (const [name, count] of top(counts)) console.log(`  ${String(count).padStart(4)}  ${name}`);
}
console.log('on the stack in all long turns (samples):');
for (const [name, count] of top(all)) console.log(`  ${String(count).padStart(5)}  ${name}`);
