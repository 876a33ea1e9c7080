/**
 * The data folder of a host: private to its owner at every start, and used by
 * one host at a time (real hosts: in this process and as a separate process).
 */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/store.js';
import { removeDir, startTestHost, tempDir } from '../testing/harness.js';
import { CliProcess } from '../testing/process.js';
import type { Host } from './host.js';

let dir: string;
const hosts: Host[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
  removeDir(dir);
});

async function start(dataDir: string): Promise<Host> {
  const host = await startTestHost(dataDir);
  hosts.push(host);
  return host;
}

const modeOf = (file: string): string => (statSync(file).mode & 0o777).toString(8);

describe('the data folder', () => {
  it('is made private at every start, with every file in it but the certificate, even when it existed with looser modes', async () => {
    dir = tempDir();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    openStore(join(dataDir, 'chat.sqlite')).close();
    // What a crash leaves beside the database, and a log from before.
    writeFileSync(join(dataDir, 'chat.sqlite-wal'), '');
    writeFileSync(join(dataDir, 'server.log'), '');
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o644);
    chmodSync(dataDir, 0o755);

    await start(dataDir);
    expect(modeOf(dataDir)).toBe('700');
    const files = readdirSync(dataDir).filter((name) => name !== 'tls-cert.pem');
    expect(files).toEqual(expect.arrayContaining(['chat.sqlite', 'chat.sqlite-wal', 'chat.sqlite-shm', 'server.log', 'tls-key.pem']));
    // The files folder (uploads, docs/PROTOCOL.md §18) is private as a folder is: 700.
    for (const name of files) {
      const path = join(dataDir, name);
      expect(`${name} ${modeOf(path)}`).toBe(`${name} ${statSync(path).isDirectory() ? '700' : '600'}`);
    }
  });

  it('is used by one host at a time: a second one is refused with the reason, and starts once the first stopped', async () => {
    dir = tempDir();
    const first = await start(dir);
    await expect(startTestHost(dir)).rejects.toThrow(`the data folder "${dir}" is in use by another LanChat host`);
    await first.stop();
    await start(dir);
  });

  it('is refused while a host process holds it, and free again when that process is killed', async () => {
    dir = tempDir();
    const child = CliProcess.run('host', ['--bind', '127.0.0.1', '--port', '0', '--data', dir]);
    await child.port();
    await expect(startTestHost(dir)).rejects.toThrow('is in use by another LanChat host');
    child.child.kill('SIGKILL');
    await child.waitExit();
    await start(dir);
  });
});
