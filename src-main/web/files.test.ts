/** The browser shell's /files: a real shell on loopback, real files in a profile's folders. */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadName, downloadsDir, outgoingDir } from '../core/transfers-file.js';
import { removeDir, tempDir } from '../testing/harness.js';
import { type WebShell, startWebShell } from './shell.js';

let root: string;
let shell: WebShell;
const profile = () => join(root, 'profile');
const FILE_ID = 'AbCdEfGhIjKlMnOpQrStUv';
/** The 8-byte PNG signature and an IHDR chunk: enough for the type to be detected from the content. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001', 'hex');

beforeAll(async () => {
  root = tempDir('lanchat-web-files-');
  const staticDir = join(root, 'dist-renderer');
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>LanChat</title>');
  mkdirSync(downloadsDir(profile()), { recursive: true });
  writeFileSync(join(downloadsDir(profile()), downloadName(FILE_ID, 'report ü.txt')), 'the report');
  writeFileSync(join(downloadsDir(profile()), downloadName(FILE_ID, 'dot.png')), PNG);
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  symlinkSync(join(root, 'secret.txt'), join(downloadsDir(profile()), downloadName(FILE_ID, 'link.txt')));
  const core = { dispatch: () => Promise.resolve({ ok: true as const, value: undefined }), onEvent: () => () => undefined };
  shell = await startWebShell({
    core,
    uiPort: 0,
    staticDir,
    files: { downloadsDir: downloadsDir(profile()), outgoingDir: outgoingDir(profile()), maxUploadBytes: 1000 },
  });
});

afterAll(async () => {
  await shell.close();
  removeDir(root);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path goes out exactly as written. */
function ask(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: shell.port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const origin = () => `http://127.0.0.1:${shell.port}`;
const token = () => `token=${shell.token}`;

describe('browser shell: downloaded files', () => {
  it('serves a downloaded file only with the token, as an attachment that is never sniffed or run', async () => {
    const path = `/files/${FILE_ID}/${encodeURIComponent('report ü.txt')}`;
    expect((await ask('GET', path)).status).toBe(403);
    expect((await ask('GET', `${path}?token=`)).status).toBe(403);
    expect((await ask('GET', `${path}?token=${shell.token.slice(0, -1)}x`)).status).toBe(403);
    // The right token from a page of another site (a leaked address embedded elsewhere) is refused too.
    expect((await ask('GET', `${path}?${token()}`, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await ask('GET', `${path}?${token()}`, { Host: `rebind.example:${shell.port}` })).status).toBe(403);

    const served = await ask('GET', `${path}?${token()}`, { 'Sec-Fetch-Site': 'same-origin' });
    expect(served.status).toBe(200);
    expect(served.body.toString()).toBe('the report');
    expect(served.headers['content-type']).toBe('application/octet-stream');
    expect(served.headers['content-disposition']).toBe(`attachment; filename="report ?.txt"; filename*=UTF-8''report%20%C3%BC.txt`);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['content-security-policy']).toBe("default-src 'none'; sandbox; frame-ancestors 'none'");
    expect(served.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('types an image from its content, so the page can show it', async () => {
    const served = await ask('GET', `/files/${FILE_ID}/dot.png?${token()}`);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.body.equals(PNG)).toBe(true);
  });

  it('serves nothing outside the downloads folder, nor a file not downloaded', async () => {
    for (const path of [
      `/files/${FILE_ID}/..%2F..%2Fsecret.txt`,
      `/files/${FILE_ID}/link.txt`,
      `/files/${FILE_ID}/missing.txt`,
      `/files/not-an-id/report.txt`,
      `/files/${FILE_ID}/a/b`,
      `/files/${FILE_ID}/%E0%A4%A`,
    ]) {
      const served = await ask('GET', `${path}?${token()}`);
      expect(served.status, path).toBe(404);
      expect(served.body.toString(), path).not.toContain('top secret');
    }
  });
});

describe('browser shell: files the page sends', () => {
  it('takes the bytes with the token from its own page only, and answers where it put them', async () => {
    const body = Buffer.from('to send');
    const headers = { Origin: origin(), 'Content-Type': 'application/octet-stream' };
    expect((await ask('POST', `/files?name=a.txt`, headers, body)).status).toBe(403);
    expect((await ask('POST', `/files?name=a.txt&${token()}`, { ...headers, Origin: 'http://evil.example' }, body)).status).toBe(403);
    expect((await ask('POST', `/files?name=a.txt&${token()}`, { 'Content-Type': 'text/plain' }, body)).status).toBe(403);

    const stored = await ask('POST', `/files?name=${encodeURIComponent('notes ü.txt')}&${token()}`, headers, body);
    expect(stored.status).toBe(201);
    const { path } = JSON.parse(stored.body.toString()) as { path: string };
    expect(path.startsWith(outgoingDir(profile()))).toBe(true);
    expect(path.endsWith('notes ü.txt')).toBe(true);
    expect(readFileSync(path).equals(body)).toBe(true);
  });

  it('refuses a name with a folder in it, and more bytes than allowed', async () => {
    const headers = { Origin: origin() };
    for (const name of ['../evil.txt', 'a/b.txt', '..', '']) {
      expect((await ask('POST', `/files?name=${encodeURIComponent(name)}&${token()}`, headers, Buffer.from('x'))).status, name).toBe(400);
    }
    expect((await ask('POST', `/files?name=big.bin&${token()}`, headers, Buffer.alloc(1001))).status).toBe(413);
    expect((await ask('GET', `/files?${token()}`)).status).toBe(405);
  });
});
