import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { app } from '../app-context.js';
import type { ConversationEntry } from '../store/selectors.js';
import { openConversation } from '../store/sync.js';

export function ConversationNav({ conversations, activeConv }: { conversations: ConversationEntry[]; activeConv: ConversationKey }) {
  const { t } = useTranslation();
  const direct = conversations.filter((entry) => entry.kind === 'dm');
  const groups = conversations.filter((entry) => entry.kind === 'group');
  const room = conversations.filter((entry) => entry.kind === 'room');
  const section = (title: string, entries: ConversationEntry[], empty: string) => (
    <section className="nav-section">
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <ul>
          {entries.map((entry) => (
            <li key={entry.conv}>
              <ConversationLink entry={entry} active={entry.conv === activeConv} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
  return (
    <nav aria-label={t('nav.label')} className="conversation-nav">
      {section(t('nav.room'), room, '')}
      {section(t('nav.direct'), direct, t('nav.noDirect'))}
      {section(t('nav.groups'), groups, t('nav.noGroups'))}
    </nav>
  );
}

function ConversationLink({ entry, active }: { entry: ConversationEntry; active: boolean }) {
  const { t } = useTranslation();
  return (
    <button
      type="button"
      className="conversation-link"
      aria-current={active ? 'page' : undefined}
      aria-label={entry.unread > 0 ? t('nav.unread', { name: entry.name, count: entry.unread }) : undefined}
      onClick={() => void openConversation(app(), entry.conv)}
    >
      <span className="conversation-name">{entry.name}</span>
      {entry.unread > 0 && (
        <span className="badge" aria-hidden="true">
          {entry.unread}
        </span>
      )}
    </button>
  );
}
