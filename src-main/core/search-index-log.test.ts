/**
 * The host's log says when the search index stops working, once, and when it works again; users
 * searching meanwhile still find what they look for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../server/log.js';
import { indexCaughtUp } from '../store/search-index.js';
import { loseIndexStructure } from '../store/test-search-index.js';
import { RawPeer, startTestHost, waitFor } from '../testing/harness.js';
import type { Host } from './host.js';

describe("the search index's trouble in the host's log", () => {
  let dataDir: string;
  let host: Host;
  let peer: RawPeer;
  const entries: LogEntry[] = [];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lanchat-index-log-'));
    host = await startTestHost(dataDir);
    host.log.subscribe((entry) => entries.push(entry));
    peer = await RawPeer.open(host.address.port);
    expect(await peer.login('ali')).toMatchObject({ ok: true });
  });

  afterEach(async () => {
    peer.destroy();
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
    entries.length = 0;
  });

  const texts = async (query: string): Promise<string[]> => {
    const answer = (await peer.request('search', { query })) as { ok: boolean; result: { hits: { message: { text: string } }[] } };
    expect(answer.ok).toBe(true);
    return answer.result.hits.map((hit) => hit.message.text);
  };

  it('logs once that it fails and once that it works again, while searches still find every message', async () => {
    expect(await peer.request('send', { to: { kind: 'room' }, clientMsgId: 'm1', text: 'alpha one' })).toMatchObject({ ok: true });
    // The first search starts the indexer.
    expect(await texts('alpha')).toEqual(['alpha one']);
    // Bounds for a loaded machine (issue 37): the indexer is a thread of its own, and its retry a timer.
    await waitFor(() => indexCaughtUp(join(dataDir, 'chat.sqlite')), 40_000, 'the indexer to catch up');
    const putBack = loseIndexStructure(join(dataDir, 'chat.sqlite'));
    expect(await peer.request('send', { to: { kind: 'room' }, clientMsgId: 'm2', text: 'alpha two' })).toMatchObject({ ok: true });
    await waitFor(() => entries.some((entry) => entry.event === 'search index failing'), 40_000, 'the failure in the log');
    expect(await texts('alpha')).toEqual(['alpha two', 'alpha one']);
    putBack();
    await waitFor(() => entries.some((entry) => entry.event === 'search index working again'), 40_000, 'the recovery in the log');
    expect(entries.filter((entry) => entry.event === 'search index failing')).toMatchObject([
      { level: 'error', error: expect.any(String), effect: expect.stringContaining('chat.sqlite-search') },
    ]);
  }, 150_000);
});
