/**
 * Where a heap snapshot's memory is (`npm run bench -- --only connections --heap-snapshot DIR`):
 * self size and count per kind of object (constructor name for objects, the node type for
 * strings, arrays, code and closures; Node's native parts, such as TLSWrap, by name), largest first.
 * Run: npx tsx bench/heap-summary.ts FILE.heapsnapshot [top]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

const [file, top = '30'] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [top]');
const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snapshot.meta.node_fields;
const types = snapshot.meta.node_types[0];
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let offset = 0; offset < nodes.length; offset += fields.length) {
  const type = types[nodes[offset + typeAt]!]!;
  const bytes = nodes[offset + sizeAt]!;
  // Objects and native parts by name; strings, arrays, code and the rest by type only.
  const key = type === 'object' || type === 'native' ? `${type} ${strings[nodes[offset + nameAt]!]}` : `(${type})`;
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count += 1;
  group.bytes += bytes;
  groups.set(key, group);
  total += bytes;
}
console.log(`${(total / 1024 / 1024).toFixed(1)} MB in ${snapshot.node_count} nodes`);
for (const [key, { count, bytes }] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(top))) {
  console.log(`${(bytes / 1024 / 1024).toFixed(2).padStart(8)} MB  ${String(count).padStart(8)}  ${key}`);
}
