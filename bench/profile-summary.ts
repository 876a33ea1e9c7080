/**
 * Where a CPU profile of the host (`npm run bench -- --cpu-profile DIR`, or Node's `--cpu-prof`) spent its time: self time grouped by area (a project
 * folder, a package, Node's internals, GC) and the functions with the most self time.
 * Run: npx tsx bench/profile-summary.ts FILE.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

/** Microseconds of self time per node id. */
const self = new Map<number, number>();
profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

/** The package, project folder or Node part a function belongs to. */
function area({ url, functionName }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const inProject = /.*\/(src-main|src-shared|bench)\/(.+?)(?:\/[^/]+)?$/.exec(url);
  return inProject ? `${inProject[1]}/${inProject[2]}` : url;
}

const total = [...self.values()].reduce((sum, value) => sum + value, 0);
const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, micros] of self) {
  const { callFrame } = nodes.get(id)!;
  byArea.set(area(callFrame), (byArea.get(area(callFrame)) ?? 0) + micros);
  const where = callFrame.url ? `${callFrame.url.replace(/^.*\/(node_modules|src-main|src-shared|bench)\//, '$1/')}:${callFrame.lineNumber + 1}` : '';
  const name = `${callFrame.functionName || '(anonymous)'} ${where}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
const show = (title: string, entries: Map<string, number>, count: number): void => {
  console.log(`${title} (of ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
};
show('self time by area', byArea, 20);
show('self time by function', byFunction, Number(top));
