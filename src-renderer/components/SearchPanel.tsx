import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { SEARCH_INPUT_ID } from '../desktop/shortcuts.js';
import { splitAtMatch } from '../lib/highlight.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { formatMoment } from '../lib/time.js';
import { type ConversationEntry, otherUsers } from '../store/selectors.js';
import { openSearchHit, runSearch } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';

const SEARCH_DELAY_MS = 250;

export function SearchPanel({ conversations }: { conversations: ConversationEntry[] }) {
  const { t } = useTranslation();
  const query = useApp((state) => state.searchQuery);
  const person = useApp((state) => state.searchPerson);
  const setQuery = useApp((state) => state.setSearchQuery);
  const setPerson = useApp((state) => state.setSearchPerson);
  const clearSearch = useApp((state) => state.clearSearch);
  const active = query.trim() !== '' || person.trim() !== '';
  const peopleId = useId();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  // The filter needs an exact name: the room's users are offered as the person types.
  const people = [...otherUsers(users, me).map((user) => user.name), ...(me !== null ? [me] : [])];

  useEffect(() => {
    const timer = setTimeout(() => void runSearch(app()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query, person]);

  return (
    <div className="search-panel">
      <form role="search" aria-label={t('search.label')} onSubmit={(event) => event.preventDefault()}>
        <input
          id={SEARCH_INPUT_ID}
          type="search"
          aria-label={t('search.label')}
          placeholder={`${t('search.label')} (Ctrl+K)`}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <input
          aria-label={t('search.person')}
          placeholder={t('search.person')}
          list={peopleId}
          autoComplete="off"
          value={person}
          onChange={(event) => setPerson(event.target.value)}
        />
        <datalist id={peopleId}>
          {people.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        {active && (
          <button type="button" onClick={clearSearch}>
            {t('search.clear')}
          </button>
        )}
      </form>
      {active && <SearchResults conversations={conversations} query={query} />}
    </div>
  );
}

function SearchResults({ conversations, query }: { conversations: ConversationEntry[]; query: string }) {
  const { t, i18n } = useTranslation();
  const hits = useApp((state) => state.searchHits);
  const hasMore = useApp((state) => state.searchHasMore);
  const loading = useApp((state) => state.searchLoading);
  const searchError = useApp((state) => state.searchError);
  const personFound = useApp((state) => state.searchPersonFound);
  const peopleMatched = useApp((state) => state.searchPeopleMatched);
  const setPerson = useApp((state) => state.setSearchPerson);
  const me = useApp((state) => state.session.me);
  const [openError, setOpenError] = useState<AppError | null>(null);

  const conversationName = (message: ChatMessage) => {
    const known = conversations.find((entry) => entry.conv === message.conv)?.name;
    if (known !== undefined) return known;
    if (message.to !== undefined) return sameName(message.from, me) ? message.to : message.from;
    return t('conversation.unknown');
  };

  const open = async (message: ChatMessage) => {
    const result = await openSearchHit(app(), message);
    setOpenError(result.ok ? null : result.error);
  };

  // A failed search (say, no such person) says so in place of the results of an earlier one.
  if (searchError !== null) {
    return (
      <div className="search-results">
        <ErrorAlert error={searchError} />
      </div>
    );
  }

  if (peopleMatched.length > 0) {
    return (
      <div className="search-results">
        <p role="status">{t('search.severalPeople')}</p>
        <ul aria-label={t('search.pickPerson')} className="search-people">
          {peopleMatched.map((name) => (
            <li key={name}>
              <button type="button" onClick={() => setPerson(name)}>
                {name}
              </button>
            </li>
          ))}
        </ul>
      </div>
    );
  }

  return (
    <div className="search-results">
      {personFound !== null && <p className="muted">{t('search.personFound', { name: personFound })}</p>}
      <ul aria-label={t('search.results')} aria-busy={loading}>
        {hits.map(({ message }) => (
          <li key={message.id}>
            <button type="button" className="search-hit" onClick={() => void open(message)}>
              <span className="hit-meta">
                <span className="hit-conversation">{conversationName(message)}</span>{' '}
                <span className="hit-sender">{message.from}</span>{' '}
                <time dateTime={new Date(message.ts).toISOString()}>{formatMoment(message.ts, Date.now(), i18n.language)}</time>
              </span>{' '}
              {message.text !== '' && <Marked className="hit-text" text={message.text} query={query} />}
              {message.attachments?.map((file) => (
                <span key={file.id} className="hit-file">
                  <Icon name="file" size={14} />
                  <Marked className="hit-file-name" text={file.name} query={query} />
                </span>
              ))}
            </button>
          </li>
        ))}
      </ul>
      {loading && (
        <p className="muted" role="status">
          {t('search.searching')}
        </p>
      )}
      {!loading && hits.length === 0 && (
        <p className="muted" role="status">
          {t('search.none')}
        </p>
      )}
      {hasMore && !loading && (
        <button type="button" onClick={() => void runSearch(app(), true)}>
          {t('search.more')}
        </button>
      )}
      <ErrorAlert error={openError} />
    </div>
  );
}


/** Text with the query's first match marked, as the host's search folds both. */
function Marked({ text, query, className }: { text: string; query: string; className: string }) {
  return (
    <span className={className}>
      {splitAtMatch(text, query).map((part, index) => (part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>))}
    </span>
  );
}
