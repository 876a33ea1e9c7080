/**
 * A host whose data folder sits on a disk that fills up: every request is still
 * answered, the server log stops writing (and says so once), the host stays up.
 * A real full disk: a small tmpfs mounted for the test (needs root; skipped otherwise).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { LogEntry } from '../server/log.js';
import { RawPeer, startTestHost, waitFor } from '../testing/harness.js';
import { fillDisk, useSmallDisk } from '../testing/small-disk.js';
import type { Host } from './host.js';

describe('a full disk', () => {
  const disk = useSmallDisk('3m');
  let host: Host | undefined;
  const peers: RawPeer[] = [];
  const entries: LogEntry[] = [];

  const peer = async (): Promise<RawPeer> => {
    const opened = await RawPeer.open(host!.address.port);
    peers.push(opened);
    return opened;
  };

  // Before the disk is unmounted.
  afterEach(async () => {
    for (const opened of peers.splice(0)) opened.destroy();
    await host?.stop();
    host = undefined;
    entries.length = 0;
  });

  it('answers a registration with STORAGE_FULL, answers the next login, keeps the host up, and logs the failure once', async (context) => {
    const dir = disk.dir(context);
    const dataDir = join(dir, 'data');
    const filler = join(dir, 'filler');
    host = await startTestHost(dataDir);
    host.log.subscribe((entry) => entries.push(entry));
    const ali = await peer();
    expect(await ali.login('ali')).toMatchObject({ ok: true });
    fillDisk(filler);

    const newcomer = await peer();
    expect(await newcomer.login('newcomer')).toMatchObject({ ok: false, error: { code: ErrorCode.STORAGE_FULL } });
    const again = await peer();
    expect(await again.login('ali')).toMatchObject({ type: 'res' });
    for (let i = 0; i < 5; i++) {
      const another = await peer();
      expect(await another.login(`late${i}`)).toMatchObject({ ok: false, error: { code: ErrorCode.STORAGE_FULL } });
    }
    ali.send({ type: 'ping' });
    await ali.waitFrame((frame) => frame.type === 'pong');
    expect(entries.filter((entry) => entry.event === 'log file unwritable')).toHaveLength(1);

    rmSync(filler);
    const later = await peer();
    expect(await later.login('later')).toMatchObject({ ok: true, result: { registered: true } });
    await waitFor(() => readFileSync(join(dataDir, 'server.log'), 'utf8').includes('"user":"later"'), 'the log to resume');
    expect(entries.filter((entry) => entry.event === 'log file writable again')).toHaveLength(1);
  });
});
