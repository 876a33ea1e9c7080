import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { formatMoment } from '../lib/time.js';
import { otherUsers } from '../store/selectors.js';
import { startDirectChat } from '../store/sync.js';
import { Avatar } from './Avatar.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Presence } from './Presence.js';
import { VirtualList, useFindByName } from './VirtualList.js';

/** A row: a 30 px avatar beside a name and its presence. */
const ROW_HEIGHT = 56;
const nameOf = (user: UserInfo) => user.name;

/** Everyone in the room with their presence, online first; choosing one opens (or asks for) a direct chat. */
export function ContactsList() {
  const { t, i18n } = useTranslation();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const people = useMemo(() => otherUsers(users, me), [users, me]);
  const { shown, box } = useFindByName(people, nameOf, t('contacts.find'));
  const [error, setError] = useState<AppError | null>(null);

  const describe = (user: UserInfo) => {
    if (user.online) return t('contacts.online', { name: user.name });
    if (user.lastSeen === null) return t('contacts.offline', { name: user.name });
    return t('contacts.lastSeen', { name: user.name, time: formatMoment(user.lastSeen, Date.now(), i18n.language) });
  };

  const open = async (name: string) => {
    const result = await startDirectChat(app(), name);
    setError(result.ok ? null : result.error);
  };

  return (
    <section className="people" aria-labelledby="contacts-title">
      <h3 id="contacts-title">{t('contacts.title')}</h3>
      {box}
      {people.length === 0 && <p className="muted">{t('contacts.none')}</p>}
      {people.length > 0 && shown.length === 0 && <p className="muted">{t('contacts.noMatch')}</p>}
      {shown.length > 0 && (
        <VirtualList items={shown} keyOf={nameOf} estimate={ROW_HEIGHT} labelledBy="contacts-title" className="contacts">
          {(user) => (
            <button type="button" className="contact" aria-label={describe(user)} onClick={() => void open(user.name)}>
              <Avatar name={user.name} size={30} online={user.online} />
              <span className="contact-text">
                <span className="contact-name">{user.name}</span>
                <span className="contact-state">
                  <Presence user={user} />
                </span>
              </span>
            </button>
          )}
        </VirtualList>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}
