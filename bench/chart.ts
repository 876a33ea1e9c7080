/**
 * `npm run bench -- --chart DIR`: the run's figures drawn as SVG, for docs/BENCHMARKS.md: latency
 * percentiles of each server under burst and in the light room, each server's peak memory under
 * burst, memory per logged-in connection against a bare TLS server's, and a cluster's CPU per
 * delivery by its number of nodes. One horizontal bar per server (or node count) and figure, its value
 * written beside it; what the run did not measure (a peer not installed) has no bar. Plain SVG text:
 * no chart library for a few rectangles.
 */
import type { Result } from './common.js';

/** The room servers in the order the bench runs them, with the names a reader knows them by. */
const SERVERS = [
  ['host', 'LanChat'],
  ['baseline', 'Node floor'],
  ['nats', 'nats-server'],
  ['ngircd', 'ngircd'],
  ['mosquitto', 'mosquitto'],
] as const;

export interface Chart {
  file: string;
  svg: string;
}

interface Bar {
  label: string;
  value: number;
}

interface Group {
  title: string;
  bars: Bar[];
}

const WIDTH = 720;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 90;
const BAR_HEIGHT = 16;
const GAP = 4;
const GROUP_TITLE = 22;
const COLOURS = ['#2f6fb3', '#d9822b', '#4d9e4d'];

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function workloadOf(server: string, kind: string): string {
  return server === 'host' ? kind : `${server}-${kind}`;
}

/** The servers' bars for one figure of one workload, those measured only. */
function bars(results: ReadonlyMap<string, Result>, kind: string, field: string): Bar[] {
  return SERVERS.flatMap(([server, label]) => {
    const value = results.get(workloadOf(server, kind))?.[field];
    return typeof value === 'number' ? [{ label, value }] : [];
  });
}

/** Groups of bars sharing one scale (a group's longest bar is the chart's width), with a title and a caption. */
function draw(title: string, caption: string, unit: string, groups: Group[]): string {
  const shown = groups.filter((group) => group.bars.length > 0);
  const max = Math.max(...shown.flatMap((group) => group.bars.map((bar) => bar.value)));
  const scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max;
  const parts: string[] = [];
  let y = 48;
  shown.forEach((group, index) => {
    parts.push(`<text x="0" y="${y + 14}" font-weight="bold">${escape(group.title)}</text>`);
    y += GROUP_TITLE;
    for (const bar of group.bars) {
      const width = Math.max(1, bar.value * scale);
      const value = `${bar.value >= 100 ? Math.round(bar.value).toLocaleString('en-US') : bar.value.toPrecision(3)} ${unit}`;
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 12}" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLOURS[index % COLOURS.length]}"><title>${escape(`${group.title}, ${bar.label}: ${value}`)}</title></rect>`,
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 12}">${escape(value)}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    }
    y += GAP * 2;
  });
  const height = y + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escape(title)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="0" y="18" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="0" y="36" fill="#555555">${escape(caption)}</text>`,
    ...parts,
    `<text x="0" y="${height - 8}" fill="#555555">Shorter is better. Made by npm run bench -- --chart DIR from the run's own figures.</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The charts this run's results allow: none for a figure no server measured. */
export function charts(results: ReadonlyMap<string, Result>, about: string): Chart[] {
  const made: Chart[] = [];
  const latency: Group[] = [
    { title: 'burst p50', bars: bars(results, 'burst', 'p50_ms') },
    { title: 'burst p99', bars: bars(results, 'burst', 'p99_ms') },
    { title: 'light p50', bars: bars(results, 'light', 'p50_ms') },
    { title: 'light p99', bars: bars(results, 'light', 'p99_ms') },
  ];
  if (latency.some((group) => group.bars.length > 0)) {
    const burst = results.get('burst');
    const pipelined = burst !== undefined && Number(burst['window']) * Number(burst['clients']) >= Number(burst['messages']);
    const title = `Latency from send to delivery${pipelined ? ', every client pipelining all its sends' : ''}`;
    made.push({ file: 'latency.svg', svg: draw(title, about, 'ms', latency) });
  }
  const memory: Group[] = [{ title: 'burst: peak resident memory', bars: bars(results, 'burst', 'peak_rss_mb') }];
  if (memory[0]!.bars.length > 0) made.push({ file: 'memory.svg', svg: draw('Server memory under burst', about, 'MB', memory) });
  const perConnection = [
    ['connections', 'kb_per_connection', 'LanChat'],
    ['tls-floor', 'kb_per_connection_after_traffic', 'bare Node TLS server'],
  ].flatMap(([workload, field, label]) => {
    const value = results.get(workload!)?.[field!];
    return typeof value === 'number' ? [{ label: label!, value }] : [];
  });
  if (perConnection.length > 0) {
    made.push({ file: 'connection-memory.svg', svg: draw('Memory per logged-in TLS connection', about, 'KB', [{ title: 'resident memory per connection', bars: perConnection }]) });
  }
  const cluster = [1, 2, 3, 4, 5].flatMap((nodes) => {
    const value = results.get(`cluster-burst-${nodes}`)?.['cpu_s_per_100k_deliveries'];
    return typeof value === 'number' ? [{ label: `${nodes} node${nodes === 1 ? '' : 's'}`, value }] : [];
  });
  if (cluster.length > 0) {
    made.push({ file: 'cluster.svg', svg: draw('A cluster: CPU per delivery by nodes', about, 's', [{ title: 'burst: CPU s of all nodes per 100k deliveries', bars: cluster }]) });
  }
  return made;
}
