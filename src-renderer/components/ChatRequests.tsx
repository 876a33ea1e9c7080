import { memo, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { app, useApp } from '../app-context.js';
import { incomingRequests } from '../store/selectors.js';
import { answerChatRequest } from '../store/sync.js';
import { RequestList } from './RequestList.js';

/** People asking you for a direct chat. Hidden while there are none. */
export const ChatRequests = memo(function ChatRequests() {
  const { t } = useTranslation();
  const contacts = useApp((state) => state.contacts);
  const items = useMemo(
    () =>
      incomingRequests(contacts).map(({ name }) => ({
        key: name,
        text: t('requests.wants', { name }),
        acceptLabel: t('requests.accept', { name }),
        declineLabel: t('requests.decline', { name }),
        answer: (accept: boolean) => answerChatRequest(app(), name, accept),
      })),
    [contacts, t],
  );
  return (
    <RequestList
      id="chat-requests"
      title={t('requests.title')}
      items={items}
      acceptShort={t('requests.acceptShort')}
      declineShort={t('requests.declineShort')}
    />
  );
});
