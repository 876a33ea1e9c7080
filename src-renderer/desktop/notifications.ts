import { MutedMentions, silenced } from '../../src-shared/notify.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { app, appStore } from '../app-context.js';
import { i18n } from '../i18n/index.js';
import { callEventText } from '../lib/call-events.js';
import { conversationList } from '../store/selectors.js';
import { openConversation } from '../store/sync.js';

/** Asks once, on the first host or join, so the question comes from something the user did. */
export function requestNotificationPermission(): void {
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
}

const mutedMentions = new MutedMentions();

/** Shows a desktop notification for a message from someone else while this window is not in view. */
export function notifyIncoming(message: ChatMessage): void {
  const state = appStore.getState();
  if (!state.settings?.notifications || silenced(state.settings, message, state.session.me, Date.now(), mutedMentions)) return;
  // Of the call lines, only a missed call is news (the ring itself notifies: calls/notify.ts).
  if (message.callEvent && message.callEvent.kind !== 'missed') return;
  if (!document.hidden && document.hasFocus()) return;
  // Last: reading the permission asks the browser process, about 1 ms, for each message of a flood.
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  const conversation =
    conversationList(state, state.session.roomName ?? i18n.t('nav.room')).find((entry) => entry.conv === message.conv)
      ?.name ?? i18n.t('conversation.unknown');
  const notification = new Notification(i18n.t('notification.title', { sender: message.from, conversation }), {
    body: (message.callEvent ? callEventText(i18n.t, message, state.session.me) : message.text).slice(0, 200),
    // One notification per conversation: a newer message replaces the older one.
    tag: message.conv,
  });
  notification.onclick = () => {
    window.focus();
    void openConversation(app(), message.conv);
    notification.close();
  };
}
