import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { app, useApp } from '../app-context.js';
import { formatMoment } from '../lib/time.js';
import { otherUsers } from '../store/selectors.js';
import { startDirectChat } from '../store/sync.js';
import { Avatar } from './Avatar.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Presence } from './Presence.js';

/** From this many people on, a box finds one by part of their name. */
const FIND_FROM = 10;
/** A row: a 30 px avatar beside a name and its presence. */
const ROW_HEIGHT = 56;

/**
 * Everyone in the room with their presence, online first; choosing one opens (or asks for) a direct
 * chat. Virtualized: a room of thousands opens as fast as one of three.
 */
export function ContactsList() {
  const { t, i18n } = useTranslation();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const people = useMemo(() => otherUsers(users, me), [users, me]);
  const [query, setQuery] = useState('');
  const shown = useMemo(() => {
    const needle = nameKey(query.trim());
    return needle === '' ? people : people.filter((user) => nameKey(user.name).includes(needle));
  }, [people, query]);
  const [error, setError] = useState<AppError | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => shown[index]!.name,
    overscan: 8,
  });

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
      {people.length >= FIND_FROM && (
        <input type="search" aria-label={t('contacts.find')} placeholder={t('contacts.find')} value={query} onChange={(event) => setQuery(event.target.value)} />
      )}
      {people.length === 0 && <p className="muted">{t('contacts.none')}</p>}
      {people.length > 0 && shown.length === 0 && <p className="muted">{t('contacts.noMatch')}</p>}
      {shown.length > 0 && (
        <div ref={scrollRef} className="contacts-scroll">
          <ul aria-labelledby="contacts-title" className="contacts" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => {
              const user = shown[row.index]!;
              return (
                <li
                  key={row.key}
                  data-index={row.index}
                  ref={virtualizer.measureElement}
                  aria-setsize={shown.length}
                  aria-posinset={row.index + 1}
                  style={{ transform: `translateY(${row.start}px)` }}
                >
                  <button type="button" className="contact" aria-label={describe(user)} onClick={() => void open(user.name)}>
                    <Avatar name={user.name} size={30} online={user.online} />
                    <span className="contact-text">
                      <span className="contact-name">{user.name}</span>
                      <span className="contact-state">
                        <Presence user={user} />
                      </span>
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}
