/**
 * File contents through each content store (src-main/server/file-store/): an upload's bytes written
 * as a socket hands them over (64 KiB writes), kept, then read back whole, as MB/s, for a folder on
 * this machine's disk and for PostgreSQL's `file_chunks` (Debian's PostgreSQL 15, started here in a
 * temporary folder, loopback TCP). The stores alone, without TLS or the protocol: what the choice of
 * `--files-store` costs. `npx tsx bench/file-store.ts [megabytes] [rounds]` (default 100, 3; medians).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { ContentStore } from '../src-main/server/file-store/contents.js';
import { FolderContents } from '../src-main/server/file-store/folder.js';
import { PostgresContents } from '../src-main/server/file-store/postgres.js';
import { openPgStore } from '../src-main/store/pg/open.js';
import { startPostgres } from '../src-main/store/pg/testing.js';
import { removeDir, round, tempDataDir } from './common.js';

const MB = 1024 * 1024;
const WRITE_BYTES = 64 * 1024;
const megabytes = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 3);

async function write(out: Writable, piece: Buffer, bytes: number): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  for (let at = 0; at < bytes; at += piece.length) {
    if (!out.write(piece)) await new Promise((resolve) => out.once('drain', resolve));
  }
  out.end();
  await closed;
}

async function measure(contents: ContentStore): Promise<{ upload: number; download: number }> {
  const piece = randomBytes(WRITE_BYTES);
  const upload: number[] = [];
  const download: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const id = `bench-${i}`;
    const sha256 = i.toString(16).padStart(64, '0');
    let started = performance.now();
    await write(contents.appendUpload(id, 0), piece, megabytes * MB);
    await contents.keepUpload(id, sha256);
    upload.push(performance.now() - started);
    started = performance.now();
    let read = 0;
    for await (const chunk of contents.read(sha256, 0)) read += (chunk as Buffer).length;
    if (read !== megabytes * MB) throw new Error(`read ${read} bytes of ${megabytes * MB}`);
    download.push(performance.now() - started);
    await contents.remove(sha256);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { upload: round(megabytes / (median(upload) / 1000), 1), download: round(megabytes / (median(download) / 1000), 1) };
}

const dir = tempDataDir();
const postgres = await startPostgres();
try {
  await postgres.createDatabase('files');
  // The schema (migration 019's file_chunks, and the rows remove() checks) as a node's store makes it.
  await (await openPgStore(postgres.url('files'))).close();
  const stores: [string, ContentStore][] = [
    ['folder', new FolderContents(dir)],
    ['postgres', new PostgresContents(postgres.url('files'))],
  ];
  for (const [name, contents] of stores) {
    const figures = await measure(contents);
    await contents.close();
    console.log(JSON.stringify({ workload: 'file-store', store: name, file_mb: megabytes, rounds, upload_mb_s: figures.upload, download_mb_s: figures.download }));
  }
} finally {
  await postgres.stop();
  removeDir(dir);
}
