import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { formatMoment } from '../lib/time.js';
import { otherUsers } from '../store/selectors.js';
import { startDirectChat } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Everyone in the room with their presence; choosing one opens (or asks for) a direct chat. */
export function ContactsList() {
  const { t, i18n } = useTranslation();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const people = useMemo(() => otherUsers(users, me), [users, me]);
  const [error, setError] = useState<AppError | null>(null);

  const describe = (user: UserInfo) => {
    if (user.online) return { full: t('contacts.online', { name: user.name }), short: t('contacts.onlineShort') };
    if (user.lastSeen === null) return { full: t('contacts.offline', { name: user.name }), short: t('contacts.offlineShort') };
    const time = formatMoment(user.lastSeen, Date.now(), i18n.language);
    return { full: t('contacts.lastSeen', { name: user.name, time }), short: t('contacts.lastSeenShort', { time }) };
  };

  const open = async (name: string) => {
    const result = await startDirectChat(app(), name);
    setError(result.ok ? null : result.error);
  };

  return (
    <section className="sidebar-section" aria-labelledby="contacts-title">
      <h2 id="contacts-title">{t('contacts.title')}</h2>
      {people.length === 0 ? (
        <p className="muted">{t('contacts.none')}</p>
      ) : (
        <ul aria-labelledby="contacts-title" className="contacts">
          {people.map((user) => {
            const text = describe(user);
            return (
              <li key={user.name}>
                <button type="button" className="contact" aria-label={text.full} onClick={() => void open(user.name)}>
                  <span className={user.online ? 'presence online' : 'presence'} aria-hidden="true" />
                  <span className="contact-name">{user.name}</span>
                  <span className="contact-state">{text.short}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}
