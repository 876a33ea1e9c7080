import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { app, useApp } from '../app-context.js';
import type { ContactView } from '../store/contacts.js';
import type { ConversationEntry } from '../store/selectors.js';
import { endDirectChat } from '../store/sync.js';
import { Avatar } from './Avatar.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ContactsList } from './ContactsList.js';
import { Presence } from './Presence.js';
import { Drawer } from './Drawer.js';
import { SafetyNumber } from './E2ee.js';
import { ExportConversation } from './ExportConversation.js';
import { isEncryptedConversation } from '../store/e2ee.js';
import { GroupPanel } from './GroupPanel.js';

interface ConversationDetailsProps {
  entry: ConversationEntry;
  group: GroupInfo | undefined;
  contact: ContactView | undefined;
  label: string;
  onClose(): void;
  onError(error: AppError | null): void;
}

/** The details drawer: the room's people, a group's members and actions, or the person of a direct chat. */
export function ConversationDetails({ entry, group, contact, label, onClose, onError }: ConversationDetailsProps) {
  const { t } = useTranslation();
  const peer = useApp((state) => (entry.kind === 'dm' ? state.users[nameKey(entry.name)] : undefined));
  const encrypted = useApp((state) => isEncryptedConversation(state.session, entry.conv));
  const canEndChat = contact?.state === 'accepted' || contact?.state === 'outgoing';

  return (
    <Drawer label={label} title={entry.name} onClose={onClose}>
      {entry.kind === 'room' && <ContactsList />}
      {entry.kind === 'group' && group && <GroupPanel group={group} />}
      {entry.kind === 'dm' && (
        <div className="person-card">
          <Avatar name={entry.name} size={64} online={peer?.online ?? false} />
          <p className="person-name">{entry.name}</p>
          <p className="muted">
            <Presence user={peer} />
          </p>
          {contact && canEndChat && (
            <ConfirmButton
              label={t('conversation.endChat', { name: contact.name })}
              question={t('layout.endChatQuestion', { name: contact.name })}
              detail={t('layout.endChatDetail', { name: contact.name })}
              confirm={t('conversation.endChatShort')}
              onConfirm={() =>
                void endDirectChat(app(), contact.name).then((result) => onError(result.ok ? null : result.error))
              }
            >
              {t('conversation.endChatShort')}
            </ConfirmButton>
          )}
        </div>
      )}
      <ExportConversation conv={entry.conv} />
      {/* Last: it grows when its number arrives, and must not move a button under the pointer. */}
      {entry.kind === 'dm' && encrypted && <SafetyNumber user={entry.name} />}
    </Drawer>
  );
}
