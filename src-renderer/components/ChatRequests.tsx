import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { incomingRequests } from '../store/selectors.js';
import { answerChatRequest } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';

/** People asking you for a direct chat. Hidden while there are none. */
export function ChatRequests() {
  const { t } = useTranslation();
  const contacts = useApp((state) => state.contacts);
  const requests = useMemo(() => incomingRequests(contacts), [contacts]);
  const [error, setError] = useState<AppError | null>(null);

  if (requests.length === 0 && error === null) return null;

  const answer = async (name: string, accept: boolean) => {
    const result = await answerChatRequest(app(), name, accept);
    setError(result.ok ? null : result.error);
  };

  return (
    <section className="sidebar-section chat-requests" aria-labelledby="chat-requests-title">
      <h2 id="chat-requests-title">{t('requests.title')}</h2>
      <ul>
        {requests.map((request) => (
          <li key={request.name} className="request">
            <span>{t('requests.wants', { name: request.name })}</span>
            <span className="request-actions">
              <button
                type="button"
                className="primary"
                aria-label={t('requests.accept', { name: request.name })}
                onClick={() => void answer(request.name, true)}
              >
                {t('requests.acceptShort')}
              </button>
              <button
                type="button"
                aria-label={t('requests.decline', { name: request.name })}
                onClick={() => void answer(request.name, false)}
              >
                {t('requests.declineShort')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
    </section>
  );
}
