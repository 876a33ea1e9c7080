import { useTranslation } from 'react-i18next';
import type { ContactView } from '../store/contacts.js';

/** Where a direct chat's request stands, when it is not simply accepted. */
export function ChatNote({ contact }: { contact: ContactView }) {
  const { t } = useTranslation();
  const text = {
    accepted: null,
    outgoing: t('conversation.waiting', { name: contact.name }),
    incoming: t('conversation.incoming', { name: contact.name }),
    'declined-by-me': t('conversation.declinedByMe', { name: contact.name }),
    'declined-by-them': t('conversation.declinedByThem', { name: contact.name }),
  }[contact.state];
  return text === null ? null : <p className="chat-note">{text}</p>;
}
