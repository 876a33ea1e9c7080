import { appStore } from '../app-context.js';
import { i18n } from '../i18n/index.js';

/**
 * A desktop notification for a ringing call while this window is not in view, when notifications are
 * on (the same setting and permission as for messages, desktop/notifications.ts); clicking it brings
 * the window forward, where the ring is answered.
 */
export function notifyRing(callId: string, title: string): void {
  if (!appStore.getState().settings?.notifications) return;
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  if (!document.hidden && document.hasFocus()) return;
  const notification = new Notification(title, { body: i18n.t('calls.notifyBody'), tag: `call:${callId}`, requireInteraction: true });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
