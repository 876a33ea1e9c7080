import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app } from '../app-context.js';
import { errorText } from '../i18n/index.js';
import { formatMoment } from '../lib/time.js';
import type { ContactView } from '../store/contacts.js';
import { startDirectChat } from '../store/sync.js';

/** When the host lets a declined person ask again: the time its refusal names (PROTOCOL.md §6.3), if any. */
function askAgainFrom(error: AppError): number | null {
  const time = /(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(error.message)?.[1];
  return error.code === 'CHAT_DECLINED' && time !== undefined ? Date.parse(time) : null;
}

/** Where a direct chat's request stands, when it is not simply accepted; after a decline, asking again. */
export function ChatNote({ contact }: { contact: ContactView }) {
  const { t, i18n } = useTranslation();
  const [error, setError] = useState<AppError | null>(null);
  const text = {
    accepted: null,
    outgoing: t('conversation.waiting', { name: contact.name }),
    incoming: t('conversation.incoming', { name: contact.name }),
    'declined-by-me': t('conversation.declinedByMe', { name: contact.name }),
    'declined-by-them': t('conversation.declinedByThem', { name: contact.name }),
  }[contact.state];
  if (text === null) return null;
  const from = error === null ? null : askAgainFrom(error);
  return (
    <div className="chat-note">
      <p>
        {text}{' '}
        {contact.state === 'declined-by-them' && (
          <button
            type="button"
            className="link-button"
            onClick={async () => {
              const result = await startDirectChat(app(), contact.name);
              setError(result.ok ? null : result.error);
            }}
          >
            {t('askAgain.button')}
          </button>
        )}
      </p>
      {error !== null && (
        <p className="message-error" role="alert">
          {from !== null ? t('askAgain.tooSoon', { name: contact.name, time: formatMoment(from, Date.now(), i18n.language) }) : errorText(t, error)}
        </p>
      )}
    </div>
  );
}
