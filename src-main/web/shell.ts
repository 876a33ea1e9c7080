/**
 * The browser shell: serves the built UI on http://127.0.0.1:<port> and carries
 * the App API over one WebSocket per window (src-shared/bridge.ts). Anything
 * else on this machine can reach a loopback port, including web pages in the
 * user's browser, so the bridge only accepts a socket that shows this run's
 * secret token and comes from the shell's own origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, STATUS_CODES, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, resolve, sep } from 'node:path';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { AppEvent, Result } from '../../src-shared/api.js';
import { BRIDGE_PATH, type BridgeMessage } from '../../src-shared/bridge.js';
import { FILES_PATH, type ShellFileFolders, serveFiles } from './files.js';

/** The part of the core a shell needs: calls in, events out. */
export interface ShellCore {
  dispatch(call: unknown, args: unknown): Promise<Result<unknown>>;
  onEvent(listener: (event: AppEvent) => void): () => void;
}

export interface WebShellOptions {
  core: ShellCore;
  /** 0 picks a free port. */
  uiPort: number;
  /** The built UI (dist-renderer). */
  staticDir: string;
  /** The profile's file folders; without them /files is not served. */
  files?: ShellFileFolders;
}

export interface WebShell {
  port: number;
  token: string;
  /** What to open in a browser: the UI with this run's token. */
  url: string;
  close(): Promise<void>;
}

/** The UI's own policy, as its meta tag states it (so a page opened without the header is covered too). */
export const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: file:; " +
  "connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'";

/**
 * The header for every response: the page's policy, and no framing by other sites.
 * frame-ancestors works only in a header; browsers ignore it in a meta tag, with a warning.
 */
export const CONTENT_SECURITY_POLICY = `${PAGE_POLICY}; frame-ancestors 'none'`;

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** A bridge message is small (a message text is at most 8000 characters). */
const MAX_BRIDGE_MESSAGE_BYTES = 1024 * 1024;
/** A window that stops reading its socket is dropped before its backlog eats the memory. */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

const bridgeCallEnvelope = z.strictObject({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  call: z.string().max(64),
  args: z.unknown(),
});

export async function startWebShell(options: WebShellOptions): Promise<WebShell> {
  const { core } = options;
  if (!existsSync(join(options.staticDir, 'index.html'))) {
    throw new Error(`the UI is not built (no index.html in ${options.staticDir}); build it with "npm run build:renderer"`);
  }
  const staticRoot = await realpath(options.staticDir);
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);
  // Set once listening: the port is only known then.
  let hostHeader = '';
  let origin = '';

  const server = createServer((request, response) => {
    if (request.headers.host !== hostHeader) {
      reply(response, 403);
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const { files } = options;
    const serving =
      files && (url.pathname === FILES_PATH || url.pathname.startsWith(`${FILES_PATH}/`))
        ? serveFiles(
            files,
            request,
            response,
            url,
            // An upload also shows the page's own origin, as the bridge does; an <img> sends none.
            tokenMatches(url.searchParams.get('token'), tokenDigest) && (request.method !== 'POST' || request.headers.origin === origin),
            (status, headers) => reply(response, status, headers),
          )
        : serveStatic(staticRoot, request, response);
    serving.catch(() => {
      if (!response.headersSent) reply(response, 500);
      else response.destroy();
    });
  });

  const bridge = new WebSocketServer({ noServer: true, maxPayload: MAX_BRIDGE_MESSAGE_BYTES });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== BRIDGE_PATH) {
      refuseUpgrade(socket, 404);
      return;
    }
    const allowed =
      request.headers.host === hostHeader &&
      request.headers.origin === origin &&
      tokenMatches(url.searchParams.get('token'), tokenDigest);
    if (!allowed) {
      refuseUpgrade(socket, 403);
      return;
    }
    bridge.handleUpgrade(request, socket, head, (ws) => connectWindow(core, ws));
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.uiPort, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hostHeader = `127.0.0.1:${port}`;
  origin = `http://${hostHeader}`;

  let closing: Promise<void> | null = null;
  return {
    port,
    token,
    url: `${origin}/?token=${token}`,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        for (const ws of bridge.clients) ws.close(1001, 'the app is shutting down');
        bridge.close();
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** One window: every event goes out, every call comes in and is answered with its id. */
function connectWindow(core: ShellCore, ws: WebSocket): void {
  const stopEvents = core.onEvent((event) => sendToWindow(ws, { event }));
  ws.on('close', stopEvents);
  ws.on('error', () => ws.terminate());
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const envelope = isBinary ? null : bridgeCallEnvelope.safeParse(parseJson(data.toString()));
    if (!envelope?.success) {
      // Only a broken or foreign client sends this; it gets no second chance.
      ws.close(1008, 'not a bridge call');
      return;
    }
    const { id, call, args } = envelope.data;
    void core.dispatch(call, args).then((result) => sendToWindow(ws, { id, result }));
  });
}

function sendToWindow(ws: WebSocket, message: BridgeMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount > MAX_UNSENT_BYTES) {
    ws.terminate();
    return;
  }
  ws.send(JSON.stringify(message));
}

async function serveStatic(staticRoot: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(response, 405, { Allow: 'GET, HEAD' });
    return;
  }
  const file = await resolveStaticFile(staticRoot, request.url ?? '/');
  if (!file) {
    reply(response, 404);
    return;
  }
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': file.size,
    // The UI is rebuilt in place; the browser must ask again rather than run a stale bundle.
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file.path).on('error', () => response.destroy()).pipe(response);
}

/**
 * The file a URL names inside the static root, or null. Decoded separators and
 * dot segments, and symbolic links pointing out, all end up outside the root and are refused.
 */
async function resolveStaticFile(staticRoot: string, requestUrl: string): Promise<{ path: string; size: number } | null> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl, 'http://127.0.0.1').pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const candidate = resolve(staticRoot, pathname === '/' ? 'index.html' : `.${pathname}`);
  if (!candidate.startsWith(staticRoot + sep)) return null;
  try {
    const real = await realpath(candidate);
    if (!real.startsWith(staticRoot + sep)) return null;
    const stats = await stat(real);
    return stats.isFile() ? { path: real, size: stats.size } : null;
  } catch {
    return null;
  }
}

function reply(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Answers an upgrade request with a plain HTTP error; no WebSocket is ever opened. */
function refuseUpgrade(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function tokenMatches(given: string | null, expectedDigest: Buffer): boolean {
  return given !== null && timingSafeEqual(sha256(given), expectedDigest);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
