import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { app, appStore } from './app-context.js';
import { startCalls } from './calls/controller.js';
import { startCallSounds } from './calls/ring-sound.js';
import { App } from './components/App.js';
import { notifyIncoming } from './desktop/notifications.js';
import { detectLanguage, initI18n } from './i18n/index.js';
import { loadEmojiFont } from './lib/emoji-font.js';
import { startSync } from './store/sync.js';
import './styles.css';
import './calls/calls.css';

// Read before getApi() tidies the address bar; the bridge keeps "conv" there anyway.
const chatWindowConv = new URLSearchParams(window.location.search).get('conv');
const ctx = app();

initI18n(detectLanguage(undefined, navigator.language));
loadEmojiFont();
if (chatWindowConv !== null) {
  appStore.getState().setChatWindowConv(chatWindowConv);
  appStore.getState().setActiveConv(chatWindowConv);
}
// A popped-out window leaves notifications to the main window, so each message notifies once.
startSync(ctx, chatWindowConv === null ? { onIncoming: notifyIncoming } : {});
// Calls are the main window's: a popped-out chat window neither rings nor joins.
if (chatWindowConv === null) {
  startCalls(ctx);
  startCallSounds(appStore);
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
