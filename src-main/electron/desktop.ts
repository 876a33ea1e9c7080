/**
 * What the desktop offers besides windows: the tray icon and the taskbar/dock badge with the
 * unread count, and native notifications that open their conversation. The decisions live in
 * src-main/desktop; this file only calls Electron.
 */
import { BrowserWindow, Menu, Notification, Tray, app, nativeImage } from 'electron';
import type { AppEvent, Language, SessionView, Settings } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { badgeText, unreadDot, withUnreadDot } from '../desktop/badge.js';
import { clickTarget, notificationText, roomLabel, shouldNotify } from '../desktop/notifications.js';
import { MutedMentions } from '../../src-shared/notify.js';
import { runCall } from '../core/calls.js';
import type { Core } from '../core/resume.js';
import type { AppWindows } from './windows.js';

const TRAY_ICON_SIZE = 16;

export class DesktopIntegration {
  private tray: Tray | null = null;
  private readonly trayIcon: Electron.NativeImage;
  private readonly trayIconUnread: Electron.NativeImage;
  private readonly overlay = nativeImage.createFromBitmap(unreadDot(TRAY_ICON_SIZE), { width: TRAY_ICON_SIZE, height: TRAY_ICON_SIZE });
  private session: SessionView | null = null;
  private settings: Settings | null = null;
  private groups = new Map<string, string>();
  /** Kept referenced: a notification that is garbage-collected loses its click handler. */
  private readonly shown = new Set<Notification>();
  private readonly mutedMentions = new MutedMentions();

  constructor(
    private readonly core: Core,
    private readonly windows: AppWindows,
    iconFile: string,
  ) {
    this.trayIcon = nativeImage.createFromPath(iconFile).resize({ width: TRAY_ICON_SIZE, height: TRAY_ICON_SIZE });
    this.trayIconUnread = this.trayIcon.isEmpty()
      ? this.trayIcon
      : nativeImage.createFromBitmap(withUnreadDot(this.trayIcon.toBitmap(), TRAY_ICON_SIZE), { width: TRAY_ICON_SIZE, height: TRAY_ICON_SIZE });
  }

  start(): void {
    this.core.onEvent((event) => this.onEvent(event));
    void runCall(this.core.calls, 'settings', []).then((result) => {
      if (result.ok) this.settings = result.value;
    });
    // Without its icon file (a broken package) there is no tray; badge and notifications still work.
    if (this.trayIcon.isEmpty()) return;
    this.tray = new Tray(this.trayIcon);
    this.tray.setToolTip(app.getName());
    this.tray.on('click', () => this.windows.showMain());
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: app.getName(), click: () => this.windows.showMain() },
        { type: 'separator' },
        { role: 'quit' },
      ]),
    );
  }

  /** The unread count the main window shows in its title. */
  showUnread(count: number, title: string): void {
    const text = badgeText(count);
    // macOS dock and Linux launchers that support it (Unity); elsewhere it does nothing.
    app.setBadgeCount(count);
    const main = this.windows.mainWindow();
    if (process.platform === 'win32' && main) main.setOverlayIcon(count > 0 ? this.overlay : null, text);
    if (!this.tray) return;
    this.tray.setImage(count > 0 ? this.trayIconUnread : this.trayIcon);
    this.tray.setToolTip(title);
    if (process.platform === 'darwin') this.tray.setTitle(text);
  }

  private onEvent(event: AppEvent): void {
    if (event.type === 'session') this.session = event.session;
    if (event.type === 'settings') this.settings = event.settings;
    if (event.type === 'group') this.groups.set(event.group.conv, event.group.name);
    if (event.type === 'session' && event.session.status === 'online') {
      void runCall(this.core.calls, 'groups', []).then((result) => {
        if (result.ok) this.groups = new Map(result.value.map((group) => [group.conv, group.name]));
      });
    }
    if (event.type === 'message') this.notify(event.message);
  }

  private notify(message: ChatMessage): void {
    const inView = BrowserWindow.getFocusedWindow() !== null;
    const context = {
      me: this.session?.me ?? null,
      enabled: this.settings?.notifications ?? false,
      inView,
      doNotDisturb: this.settings?.doNotDisturb ?? false,
      mutes: this.settings?.mutes ?? {},
      now: Date.now(),
      mutedMentions: this.mutedMentions,
    };
    if (!shouldNotify(message, context) || !Notification.isSupported()) return;
    const language = this.language();
    const where = message.conv === 'room' ? (this.session?.roomName ?? roomLabel(language)) : this.groups.get(message.conv);
    const notification = new Notification(notificationText(message, where, language));
    this.shown.add(notification);
    notification.on('click', () => {
      const target = clickTarget(message.conv, this.windows.openChats());
      if (target.window === 'chat') this.windows.showChat(target.conv);
      else this.windows.showMainConversation(target.conv);
    });
    notification.on('close', () => this.shown.delete(notification));
    notification.show();
  }

  private language(): Language {
    const setting = this.settings?.language ?? 'system';
    if (setting !== 'system') return setting;
    return app.getLocale().toLowerCase().startsWith('tr') ? 'tr' : 'en';
  }
}
