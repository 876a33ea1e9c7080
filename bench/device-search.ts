/**
 * Search in a device's decrypted history (issue 35 item 5): 100,000 end-to-end encrypted messages in one
 * `history.sqlite`, encrypted at rest (core/e2ee-history.ts), searched as the app does (PROTOCOL §7.9's
 * semantics: a word, part of one, one letter, Turkish case, by person, and a word in no message, which
 * reads every row). `main_blocked_max_ms`: the longest turn of this process's event loop during the searches
 * (perf_hooks' monitorEventLoopDelay), which is how long the app's main process would answer nothing else.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { E2EE_ID_BASE, type E2eeMessage } from '../src-shared/e2ee-app.js';
import { DeviceHistory } from '../src-main/core/e2ee-history.js';
import { type Result, removeDir, round, tempDataDir } from './common.js';

export interface DeviceSearchOptions {
  messages: number;
  /** Times each query runs; the median and the slowest are reported. */
  repeats: number;
}

const WORDS = ['toplantı', 'İstanbul', 'IŞIK', 'ışık', 'kahve', 'release', 'build', 'öğle', 'çay', 'deploy', 'şifre', 'Ankara', 'notes', 'review', 'lunch', 'printer'];
const PEOPLE = Array.from({ length: 20 }, (_, i) => `user${i}`);

const median = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

/** Deterministic text: a few words each, from a small generator, so every run searches the same history. */
function seeded(count: number): E2eeMessage[] {
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 48271) % 2147483647;
    return state % n;
  };
  return Array.from({ length: count }, (_, i) => {
    const from = PEOPLE[next(PEOPLE.length)]!;
    const to = PEOPLE[next(PEOPLE.length)]!;
    const dm = next(2) === 0;
    const text = Array.from({ length: 4 + next(8) }, () => WORDS[next(WORDS.length)]).join(' ') + ` #${i}`;
    return {
      id: E2EE_ID_BASE + i + 1,
      conv: dm ? `dm:${1 + PEOPLE.indexOf(from)}:${1 + PEOPLE.indexOf(to)}` : `group:${1 + next(50)}`,
      from,
      ...(dm ? { to } : {}),
      text,
      ts: 1_760_000_000_000 + i * 1000,
      clientMsgId: `m${i}`,
      e2ee: true,
    };
  });
}

/** A turn of the event loop: a search that held it shows in the delay monitor's next sample. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function deviceSearch(options: DeviceSearchOptions): Promise<Result> {
  const dir = tempDataDir();
  try {
    const file = join(dir, 'history.sqlite');
    const key = randomBytes(32);
    const seeding = new DeviceHistory(file, key);
    let started = performance.now();
    const messages = seeded(options.messages);
    for (let i = 0; i < messages.length; i += 5000) seeding.putAll(messages.slice(i, i + 5000));
    const result: Result = { workload: 'device-search', messages: options.messages, insert_s: round((performance.now() - started) / 1000) };
    seeding.close();

    started = performance.now();
    const history = new DeviceHistory(file, key);
    result['open_ms'] = round(performance.now() - started, 1);
    const queries: [string, string, string | undefined][] = [
      ['word', 'istanbul', undefined],
      ['part', 'stanb', undefined],
      ['letter', 'ş', undefined],
      ['turkish_case', 'IŞIK', undefined],
      ['person', '', 'user7'],
      ['person_word', 'kahve', 'user7'],
      ['absent', 'zebra', undefined],
    ];
    // The first search starts the reader thread (from the sources here, through tsx: slower than the app's bundle).
    started = performance.now();
    await history.search('kahve', undefined, undefined, 50);
    result['first_search_ms'] = round(performance.now() - started, 1);
    // How long the process's main thread was held at most, in one turn, during the searches.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    for (const [label, query, person] of queries) {
      const samples: number[] = [];
      let hits = 0;
      for (let i = 0; i < options.repeats; i++) {
        const t = performance.now();
        hits = (await history.search(query, person, undefined, 50)).messages.length;
        samples.push(performance.now() - t);
        await nextTurn();
      }
      result[`${label}_ms`] = round(median(samples), 1);
      result[`${label}_max_ms`] = round(Math.max(...samples), 1);
      result[`${label}_hits`] = hits;
    }
    loop.disable();
    result['main_blocked_max_ms'] = round(loop.max / 1e6, 1);
    // The same over two seconds of doing nothing: what the machine's other load alone costs a turn.
    loop.reset();
    loop.enable();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    loop.disable();
    result['idle_blocked_max_ms'] = round(loop.max / 1e6, 1);
    // The next page of a search reads on from where the first stopped.
    const first = (await history.search('kahve', undefined, undefined, 50)).messages;
    let t = performance.now();
    await history.search('kahve', undefined, first.at(-1)?.id, 50);
    result['next_page_ms'] = round(performance.now() - t, 1);
    t = performance.now();
    history.page(messages.at(-1)!.conv, undefined, 50);
    result['history_page_ms'] = round(performance.now() - t, 1);
    history.close();
    return result;
  } finally {
    removeDir(dir);
  }
}
