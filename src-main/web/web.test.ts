import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { BridgeMessage } from '../../src-shared/bridge.js';
import { AppCore } from '../core/app.js';
import { removeDir, tempDir } from '../testing/harness.js';
import { CONTENT_SECURITY_POLICY, PAGE_POLICY, type WebShell, startWebShell } from './shell.js';

let root: string;
let core: AppCore;
let shell: WebShell;

beforeAll(async () => {
  root = tempDir('lanchat-web-');
  const staticDir = join(root, 'dist-renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>LanChat</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("app");');
  // Beside the static folder, where a traversal would land.
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  core = new AppCore({ profileDir: join(root, 'profile') });
  shell = await startWebShell({ core, uiPort: 0, staticDir });
});

afterAll(async () => {
  await core.shutdown();
  await shell.close();
  removeDir(root);
});

/** A raw GET: the path goes out exactly as written, without the normalising fetch() would do. */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: shell.port, path, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const ownOrigin = () => `http://127.0.0.1:${shell.port}`;

/** Opens a bridge socket; resolves with it once open, or with the HTTP status that refused it. */
function openBridge(query: string, origin: string | undefined): Promise<{ ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/api${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_request, response) => {
      resolve({ refused: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** A connected window: sends calls and collects everything the shell sends back. */
async function openWindow() {
  const opened = await openBridge(`?token=${shell.token}`, ownOrigin());
  if (!('ws' in opened)) throw new Error(`refused with ${opened.refused}`);
  const { ws } = opened;
  const received: BridgeMessage[] = [];
  ws.on('message', (data) => received.push(JSON.parse(data.toString()) as BridgeMessage));
  let nextId = 1;
  const waitFor = async (predicate: (message: BridgeMessage) => boolean): Promise<BridgeMessage> => {
    const start = Date.now();
    for (;;) {
      const found = received.find(predicate);
      if (found) return found;
      if (Date.now() - start > 5000) throw new Error(`no matching bridge message in ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    ws,
    waitFor,
    async call(call: string, args: unknown): Promise<BridgeMessage> {
      const id = nextId++;
      ws.send(JSON.stringify({ id, call, args }));
      return waitFor((message) => 'id' in message && message.id === id);
    },
  };
}

describe('browser shell: static files', () => {
  it('serves index.html for / with the security headers', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.body).toContain('<title>LanChat</title>');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');

    const withQuery = await get(`/?token=${shell.token}&conv=room`);
    expect(withQuery.status).toBe(200);
  });

  it('allows no inline or eval script, in the header and in the UI meta tag alike; no framing, in the header only', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((directive) => {
        const [name = '', ...sources] = directive.trim().split(/\s+/);
        return [name, sources] as const;
      }),
    );
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    // The renderer's own meta tag holds the same policy but frame-ancestors, which a meta tag cannot carry
    // (the browser would warn on every load), so a page opened without the header is covered too.
    const indexHtml = readFileSync(join(process.cwd(), 'src-renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(indexHtml)?.[1];
    expect(meta).toBe(PAGE_POLICY);
    expect(meta).not.toContain('frame-ancestors');
  });

  it('keeps the token from other sites: no CORS grant, and no response carries it', async () => {
    const evil = { Origin: 'http://evil.example' };
    for (const path of ['/', `/?token=${shell.token}`, '/assets/app.js', '/api']) {
      const response = await get(path, evil);
      expect(response.headers['access-control-allow-origin'], path).toBeUndefined();
      expect(response.headers['access-control-allow-credentials'], path).toBeUndefined();
      expect(response.body, path).not.toContain(shell.token);
    }
    // The one place the token appears: the address the shell prints for the user to open.
    expect(shell.url).toBe(`${ownOrigin()}/?token=${shell.token}`);
  });

  it('serves assets with their content type and answers 404 otherwise', async () => {
    const script = await get('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const missing = await get('/nothing-here.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect((await get('/assets')).status).toBe(404);
  });

  it('refuses a request for another host name (a DNS rebinding page)', async () => {
    expect((await get('/', { Host: `rebind.example:${shell.port}` })).status).toBe(403);
  });

  it('never serves a file outside the static folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/%00']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain('top secret');
    }
  });
});

describe('browser shell: the /api bridge', () => {
  it('refuses a socket without the token, with a wrong one, or from another origin', async () => {
    expect(await openBridge('', ownOrigin())).toEqual({ refused: 403 });
    expect(await openBridge('?token=', ownOrigin())).toEqual({ refused: 403 });
    expect(await openBridge(`?token=${shell.token.slice(0, -1)}x`, ownOrigin())).toEqual({ refused: 403 });
    expect(await openBridge(`?token=${shell.token}`, 'http://evil.example')).toEqual({ refused: 403 });
    expect(await openBridge(`?token=${shell.token}`, `http://localhost:${shell.port}`)).toEqual({ refused: 403 });
    expect(await openBridge(`?token=${shell.token}`, undefined)).toEqual({ refused: 403 });
  });

  it('answers calls with the right token and origin and sends events to every window', async () => {
    const first = await openWindow();
    const second = await openWindow();

    const settings = await first.call('settings', []);
    expect(settings).toMatchObject({ result: { ok: true, value: { theme: 'system' } } });

    const updated = await first.call('updateSettings', [{ theme: 'dark' }]);
    expect(updated).toMatchObject({ result: { ok: true, value: { theme: 'dark' } } });
    for (const window of [first, second]) {
      const event = await window.waitFor((message) => 'event' in message && message.event.type === 'settings');
      expect(event).toMatchObject({ event: { type: 'settings', settings: { theme: 'dark' } } });
    }

    const refused = await first.call('join', [{ host: '127.0.0.1', port: 0, name: 'bob', password: 'x' }]);
    expect(refused).toMatchObject({ result: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });

    first.ws.close();
    second.ws.close();
  });

  it('closes a socket that sends something other than a bridge call', async () => {
    const window = await openWindow();
    const closed = new Promise<number>((resolve) => window.ws.once('close', (code) => resolve(code)));
    window.ws.send('not json');
    expect(await closed).toBe(1008);
  });
});
