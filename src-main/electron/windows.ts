/**
 * The app's windows: one main window and one window per conversation opened on
 * its own. Every window is sandboxed with context isolation and no Node, gets the
 * App API only through the preload, and can neither navigate away from the app's
 * page nor open windows other than the app's own chat windows.
 */
import { pathToFileURL } from 'node:url';
import { BrowserWindow, type BrowserWindowConstructorOptions, type WebContents } from 'electron';
import { conversationKey } from '../../src-shared/protocol/objects.js';

type WindowSize = Pick<BrowserWindowConstructorOptions, 'width' | 'height' | 'minWidth' | 'minHeight'>;

const MAIN_WINDOW_SIZE: WindowSize = { width: 1100, height: 740, minWidth: 720, minHeight: 480 };
const CHAT_WINDOW_SIZE: WindowSize = { width: 520, height: 640, minWidth: 360, minHeight: 400 };

export class AppWindows {
  private main: BrowserWindow | null = null;
  private readonly chats = new Map<string, BrowserWindow>();
  private readonly pagePath: string;

  constructor(
    private readonly indexFile: string,
    private readonly preloadFile: string,
  ) {
    this.pagePath = pathToFileURL(indexFile).pathname;
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
    const window = this.create(MAIN_WINDOW_SIZE, {});
    window.on('closed', () => {
      this.main = null;
      // Chat windows belong to the main one; they do not keep the app open alone.
      for (const chat of this.chats.values()) chat.close();
    });
    this.main = window;
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
      if (!this.isAppPage(url)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      // A window.open of the app's own page with ?conv= is a chat window: opened here,
      // with this file's web preferences, never with what the page asked for.
      const conv = this.chatConversation(url);
      if (conv !== null) this.showChat(conv);
      return { action: 'deny' };
    });
  }

  private chatConversation(url: string): string | null {
    if (!this.isAppPage(url)) return null;
    const conv = new URL(url).searchParams.get('conv');
    return conv !== null && conversationKey.safeParse(conv).success ? conv : null;
  }
}

function bringToFront(window: BrowserWindow): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
