import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, Result } from '../../src-shared/api.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { addGroupMember, deleteGroup, leaveGroup, removeGroupMember, renameGroup } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';
import { InlineForm } from './InlineForm.js';

/** A group's members for everyone in it; renaming, deleting and membership for its owner. */
export function GroupPanel({ group }: { group: GroupInfo }) {
  const { t } = useTranslation();
  const me = useApp((state) => state.session.me);
  const isOwner = sameName(group.owner, me);
  const [error, setError] = useState<AppError | null>(null);

  const run = async (action: Promise<Result<unknown>>) => {
    const result = await action;
    setError(result.ok ? null : result.error);
  };

  return (
    <aside className="group-panel" aria-label={t('groups.details')}>
      <h2 id={`members-${group.id}`}>{t('groups.members')}</h2>
      <ul aria-labelledby={`members-${group.id}`} className="members">
        {group.members.map((member) => (
          <li key={member}>
            <span>{sameName(member, group.owner) ? t('groups.owner', { name: member }) : member}</span>
            {isOwner && !sameName(member, group.owner) && (
              <button
                type="button"
                aria-label={t('groups.remove', { name: member })}
                onClick={() => void run(removeGroupMember(app(), group, member))}
              >
                {t('groups.removeShort')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {isOwner ? (
        <>
          <InlineForm
            label={t('groups.addMember')}
            fieldLabel={t('groups.memberName')}
            buttonLabel={t('groups.addMember')}
            onSubmit={(name) => addGroupMember(app(), group, name)}
          />
          <InlineForm
            label={t('groups.rename')}
            fieldLabel={t('groups.newName')}
            buttonLabel={t('groups.renameButton')}
            onSubmit={(name) => renameGroup(app(), group, name)}
          />
          <button type="button" className="danger" onClick={() => void run(deleteGroup(app(), group))}>
            {t('groups.delete')}
          </button>
        </>
      ) : (
        me !== null && (
          <button type="button" onClick={() => void run(leaveGroup(app(), group, me))}>
            {t('groups.leave')}
          </button>
        )
      )}
      <ErrorAlert error={error} />
    </aside>
  );
}
