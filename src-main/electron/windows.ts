/**
 * The app's windows: one main window and one window per conversation opened on
 * its own. Every window is sandboxed with context isolation and no Node, gets the
 * App API only through the preload, and can neither navigate away from the app's
 * page nor open windows other than the app's own chat windows: a link in a message
 * opens in the system's browser (or mail program) when its scheme is allowed.
 */
import { pathToFileURL } from 'node:url';
import { BrowserWindow, type BrowserWindowConstructorOptions, type WebContents, screen, shell } from 'electron';
import type { AppEvent } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { conversationKey } from '../../src-shared/protocol/objects.js';
import { externalLink } from '../desktop/links.js';
import { type WindowStateFile, placeWindow } from '../desktop/window-state.js';
import { EVENT_CHANNEL } from './channels.js';

type WindowSize = Pick<BrowserWindowConstructorOptions, 'x' | 'y' | 'width' | 'height' | 'minWidth' | 'minHeight'>;

const MAIN_WINDOW_SIZE = { width: 1100, height: 740, minWidth: 720, minHeight: 480 };
const CHAT_WINDOW_SIZE: WindowSize = { width: 520, height: 640, minWidth: 360, minHeight: 400 };

export interface AppWindowsOptions {
  indexFile: string;
  preloadFile: string;
  /** Where the main window's size and position are kept between runs. */
  windowState: WindowStateFile;
  /** The main window's title changed (it carries the unread count). */
  onMainTitle(title: string): void;
}

export class AppWindows {
  private main: BrowserWindow | null = null;
  private readonly chats = new Map<string, BrowserWindow>();
  private readonly pagePath: string;

  private readonly indexFile: string;
  private readonly preloadFile: string;

  constructor(private readonly options: AppWindowsOptions) {
    this.indexFile = options.indexFile;
    this.preloadFile = options.preloadFile;
    this.pagePath = pathToFileURL(options.indexFile).pathname;
  }

  /** True for the app's own page, whatever its query (?conv=…) or fragment. */
  readonly isAppPage = (url: string): boolean => {
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'file:' && parsed.pathname === this.pagePath;
    } catch {
      return false;
    }
  };

  /** Shows the main window, opening it if there is none. */
  showMain(): void {
    if (this.main && !this.main.isDestroyed()) {
      bringToFront(this.main);
      return;
    }
    // The primary display first: placeWindow centres there when the saved place is gone.
    const primary = screen.getPrimaryDisplay().id;
    const workAreas = screen
      .getAllDisplays()
      .sort((a, b) => Number(b.id === primary) - Number(a.id === primary))
      .map((display) => display.workArea);
    const placed = placeWindow(this.options.windowState.read(), workAreas, MAIN_WINDOW_SIZE);
    const window = this.create({ ...placed.bounds, minWidth: MAIN_WINDOW_SIZE.minWidth, minHeight: MAIN_WINDOW_SIZE.minHeight }, {});
    if (placed.maximized) window.once('ready-to-show', () => window.maximize());
    window.on('page-title-updated', (_event, title) => this.options.onMainTitle(title));
    window.on('close', () => {
      try {
        this.options.windowState.save({ bounds: window.getNormalBounds(), maximized: window.isMaximized() });
      } catch (error) {
        console.error(`lanchat: could not save the window's place: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    window.on('closed', () => {
      this.main = null;
      // Chat windows belong to the main one; they do not keep the app open alone.
      for (const chat of this.chats.values()) chat.close();
    });
    this.main = window;
  }

  mainWindow(): BrowserWindow | null {
    return this.main && !this.main.isDestroyed() ? this.main : null;
  }

  /** Conversations that have a window of their own. */
  openChats(): Set<ConversationKey> {
    return new Set([...this.chats].filter(([, window]) => !window.isDestroyed()).map(([conv]) => conv));
  }

  /** Shows the main window with this conversation open in it. */
  showMainConversation(conv: ConversationKey): void {
    this.showMain();
    const event: AppEvent = { type: 'showConversation', conv };
    const contents = this.main!.webContents;
    // A window that is still loading would miss it; it asks once its page is there.
    if (contents.isLoading()) contents.once('did-finish-load', () => contents.send(EVENT_CHANNEL, event));
    else contents.send(EVENT_CHANNEL, event);
  }

  /** Shows the conversation's own window, opening it if there is none. */
  showChat(conv: string): void {
    const open = this.chats.get(conv);
    if (open && !open.isDestroyed()) {
      bringToFront(open);
      return;
    }
    const window = this.create(CHAT_WINDOW_SIZE, { conv });
    window.on('closed', () => this.chats.delete(conv));
    this.chats.set(conv, window);
  }

  private create(size: WindowSize, query: Record<string, string>): BrowserWindow {
    const window = new BrowserWindow({
      ...size,
      show: false,
      title: 'LanChat',
      webPreferences: {
        preload: this.preloadFile,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webviewTag: false,
      },
    });
    window.once('ready-to-show', () => window.show());
    this.lockDown(window.webContents);
    void window.loadFile(this.indexFile, { query });
    return window;
  }

  private lockDown(contents: WebContents): void {
    contents.on('will-navigate', (event, url) => {
      if (this.isAppPage(url)) return;
      event.preventDefault();
      openExternally(url);
    });
    contents.setWindowOpenHandler(({ url }) => {
      // A window.open of the app's own page with ?conv= is a chat window: opened here,
      // with this file's web preferences, never with what the page asked for.
      const conv = this.chatConversation(url);
      if (conv !== null) this.showChat(conv);
      else openExternally(url);
      return { action: 'deny' };
    });
  }

  private chatConversation(url: string): string | null {
    if (!this.isAppPage(url)) return null;
    const conv = new URL(url).searchParams.get('conv');
    return conv !== null && conversationKey.safeParse(conv).success ? conv : null;
  }
}

function openExternally(url: string): void {
  const link = externalLink(url);
  if (link !== null) void shell.openExternal(link);
}

function bringToFront(window: BrowserWindow): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
