/**
 * The renderer's only door to the App API. In Electron the preload exposes it as
 * `window.lanchat`; in the browser shell it is carried over the bridge WebSocket
 * (see src-shared/bridge.ts), which this module implements.
 */
import type { AppApi, AppEvent, AppTransport, Result, SessionView } from '../src-shared/api.js';
import { BRIDGE_PATH, type BridgeCall, type BridgeMessage } from '../src-shared/bridge.js';
import { OFFLINE_SESSION } from './lib/session.js';

const TOKEN_KEY = 'lanchat-token';
/** How long a call made while the bridge is down waits for it to come back. */
export const CALL_WAIT_MS = 10_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** Calls answering with the session, which the bridge remembers for its own reconnecting notice. */
const SESSION_CALLS = new Set(['session', 'host', 'join']);

let instance: AppApi | null = null;

export function getApi(): AppApi {
  instance ??= window.lanchat ? callsOver(window.lanchat) : createBridgeApi(bridgeUrl(takeToken()), connectWebSocket);
  return instance;
}

/**
 * The App API over a shell's transport. Every name but onEvent is a call, so a call
 * added to the App API needs nothing here (the core refuses names it does not know);
 * the list of calls itself would bring zod into the bundle.
 */
function callsOver(transport: AppTransport): AppApi {
  const events: Pick<AppApi, 'onEvent'> = { onEvent: (listener) => transport.onEvent(listener) };
  return new Proxy(events, {
    get: (target, name) =>
      name === 'onEvent'
        ? target.onEvent
        : typeof name === 'string' && name !== 'then'
          ? (...args: unknown[]) => transport.call(name, args)
          : undefined,
  }) as AppApi;
}

/** True in the browser shell, where the renderer opens its own extra windows. */
export function isBrowserShell(): boolean {
  return window.lanchat === undefined;
}

/**
 * Where the page reads a file the app saved: the browser shell serves it (with this
 * window's token, the same that opens the bridge); Electron's page reads the saved file.
 */
export function savedFileUrl(fileId: string, name: string, path: string): string {
  if (!isBrowserShell()) {
    const slashed = path.replace(/\\/g, '/');
    const encoded = slashed.split('/').map((part) => encodeURIComponent(part).replace('%3A', ':')).join('/');
    return `file://${slashed.startsWith('/') ? '' : '/'}${encoded}`;
  }
  return `/files/${encodeURIComponent(fileId)}/${encodeURIComponent(name)}?token=${encodeURIComponent(takeToken())}`;
}

/** What became of handing a file to the app: where it now lives, or why not. */
export type FileHandover = { path: string } | { error: string; cancelled?: true } | null;

/**
 * Where a file the page was given lives, for sendFiles: Electron knows a picked or dropped
 * file's path; the browser shell's page hands the bytes to the shell, which stores them,
 * telling `onProgress` the bytes handed over so far (an XMLHttpRequest: fetch reports no
 * upload progress) and stopping when `signal` aborts.
 * Null for a file with no path in Electron (a pasted image), which goes as bytes instead.
 */
export function pathForFile(file: File, onProgress?: (bytes: number) => void, signal?: AbortSignal): Promise<FileHandover> {
  if (window.lanchat) return Promise.resolve(window.lanchat.pathForFile?.(file) ? { path: window.lanchat.pathForFile(file) } : null);
  const query = `name=${encodeURIComponent(file.name)}&token=${encodeURIComponent(takeToken())}`;
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open('POST', `/files?${query}`);
    request.responseType = 'json';
    request.upload.onprogress = (event) => onProgress?.(event.loaded);
    request.onload = () =>
      resolve(request.status === 201 ? (request.response as { path: string }) : { error: `${request.status} ${request.statusText}` });
    request.onerror = () => resolve({ error: 'the app did not answer' });
    request.onabort = () => resolve({ error: 'cancelled', cancelled: true });
    signal?.addEventListener('abort', () => request.abort(), { once: true });
    request.send(file);
  });
}

/**
 * Moves the bridge token from the address bar into sessionStorage, so it is
 * neither left visible nor lost on reload (window.open copies sessionStorage).
 */
function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function bridgeUrl(token: string): string {
  return `ws://${window.location.host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`;
}

export interface BridgeTransport {
  send(text: string): void;
}

export interface BridgeHandlers {
  open(): void;
  message(text: string): void;
  close(): void;
}

export type ConnectBridge = (url: string, handlers: BridgeHandlers) => BridgeTransport;

function connectWebSocket(url: string, handlers: BridgeHandlers): BridgeTransport {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.open();
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') handlers.message(event.data);
  };
  socket.onclose = () => handlers.close();
  return { send: (text) => socket.send(text) };
}

function notConnected(message: string): Result<never> {
  return { ok: false, error: { code: 'NOT_CONNECTED', message } };
}

interface WaitingCall {
  frame: BridgeCall;
  resolve: (result: Result<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The App API over the bridge socket. Reconnects with backoff when the socket
 * drops; calls made meanwhile wait for it. While it is down, listeners see the
 * session as reconnecting, and after it is back they get the current session, so
 * the renderer resynchronises whatever it missed.
 */
export function createBridgeApi(url: string, connect: ConnectBridge): AppApi {
  const listeners = new Set<(event: AppEvent) => void>();
  const inFlight = new Map<number, (result: Result<unknown>) => void>();
  const waiting: WaitingCall[] = [];
  let transport: BridgeTransport | null = null;
  let open = false;
  let everOpened = false;
  let attempt = 0;
  let nextId = 1;
  let lastSession: SessionView = OFFLINE_SESSION;

  const emit = (event: AppEvent) => {
    if (event.type === 'session') lastSession = event.session;
    for (const listener of [...listeners]) listener(event);
  };

  const onOpen = () => {
    open = true;
    attempt = 0;
    for (const call of waiting.splice(0)) {
      clearTimeout(call.timer);
      dispatch(call.frame, call.resolve);
    }
    if (everOpened) {
      void call<SessionView>('session', []).then((result) => {
        if (result.ok) emit({ type: 'session', session: result.value });
      });
    }
    everOpened = true;
  };

  const onMessage = (text: string) => {
    let message: BridgeMessage;
    try {
      message = JSON.parse(text) as BridgeMessage;
    } catch {
      return;
    }
    if ('event' in message) {
      emit(message.event);
      return;
    }
    const resolve = inFlight.get(message.id);
    if (!resolve) return;
    inFlight.delete(message.id);
    resolve(message.result);
  };

  const onClose = () => {
    transport = null;
    if (open) {
      open = false;
      for (const resolve of inFlight.values()) resolve(notConnected('the link to LanChat dropped during the call'));
      inFlight.clear();
      emit({
        type: 'session',
        session: {
          ...lastSession,
          status: 'reconnecting',
          error: { code: 'NOT_CONNECTED', message: 'lost the link to LanChat; reconnecting' },
        },
      });
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt += 1;
    setTimeout(start, delay);
  };

  function start() {
    transport = connect(url, { open: onOpen, message: onMessage, close: onClose });
  }

  function dispatch(frame: BridgeCall, resolve: (result: Result<unknown>) => void) {
    inFlight.set(frame.id, resolve);
    transport?.send(JSON.stringify(frame));
  }

  function call<T>(name: string, args: unknown[]): Promise<Result<T>> {
    const frame: BridgeCall = { id: nextId++, call: name, args };
    return new Promise<Result<unknown>>((resolve) => {
      if (open) {
        dispatch(frame, resolve);
        return;
      }
      const waitingCall: WaitingCall = {
        frame,
        resolve,
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(waitingCall), 1);
          resolve(notConnected('the LanChat app cannot be reached'));
        }, CALL_WAIT_MS),
      };
      waiting.push(waitingCall);
    }).then((result) => {
      if (result.ok && SESSION_CALLS.has(name)) lastSession = result.value as SessionView;
      return result as Result<T>;
    });
  }

  start();

  return callsOver({
    call,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
}
