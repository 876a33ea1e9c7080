import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, Result } from '../../src-shared/api.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { addGroupMember, deleteGroup, leaveGroup, removeGroupMember, renameGroup } from '../store/group-actions.js';
import { Avatar } from './Avatar.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ErrorAlert } from './ErrorAlert.js';
import { NameDialog, PersonDialog } from './NewChat.js';

/** A group's members and invitees for everyone in it; renaming, deleting, inviting and removing for its owner. */
export function GroupPanel({ group }: { group: GroupInfo }) {
  const { t } = useTranslation();
  const me = useApp((state) => state.session.me);
  const isOwner = sameName(group.owner, me);
  const [error, setError] = useState<AppError | null>(null);
  const [dialog, setDialog] = useState<'add' | 'rename' | null>(null);
  const inGroup = useMemo(() => [...group.members, ...group.invited], [group]);

  const run = async (action: Promise<Result<unknown>>) => {
    const result = await action;
    setError(result.ok ? null : result.error);
  };

  return (
    <div className="group-panel">
      <h3 id={`members-${group.id}`}>{t('layout.members', { count: group.members.length })}</h3>
      <ul aria-label={t('groups.members')} className="members">
        {group.members.map((member) => (
          <li key={member}>
            <Avatar name={member} size={28} />
            <span className="member-name">{sameName(member, group.owner) ? t('groups.owner', { name: member }) : member}</span>
            {isOwner && !sameName(member, group.owner) && (
              <ConfirmButton
                className="danger small"
                label={t('groups.remove', { name: member })}
                question={t('layout.removeQuestion', { name: member, group: group.name })}
                detail={t('layout.removeDetail', { name: member })}
                confirm={t('groups.removeShort')}
                onConfirm={() => void run(removeGroupMember(app(), group, member))}
              >
                {t('groups.removeShort')}
              </ConfirmButton>
            )}
          </li>
        ))}
        {group.invited.map((name) => (
          <li key={name} className="invited">
            <Avatar name={name} size={28} />
            <span className="member-name">{t('groups.invited', { name })}</span>
            {isOwner && (
              <button
                type="button"
                className="small"
                aria-label={t('groups.withdraw', { name })}
                onClick={() => void run(removeGroupMember(app(), group, name))}
              >
                {t('groups.withdrawShort')}
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
      {isOwner ? (
        <div className="drawer-actions">
          <button type="button" onClick={() => setDialog('add')}>
            {t('groups.addMember')}
          </button>
          <button type="button" onClick={() => setDialog('rename')}>
            {t('groups.rename')}
          </button>
          <ConfirmButton
            question={t('layout.deleteQuestion', { group: group.name })}
            detail={t('layout.deleteDetail')}
            confirm={t('groups.delete')}
            onConfirm={() => void run(deleteGroup(app(), group))}
          >
            {t('groups.delete')}
          </ConfirmButton>
          <PersonDialog
            open={dialog === 'add'}
            onClose={() => setDialog(null)}
            title={t('groups.addMember')}
            field={t('groups.memberName')}
            hint={t('layout.addHint')}
            button={t('groups.addMember')}
            exclude={inGroup}
            onSubmit={(name) => addGroupMember(app(), group, name)}
          />
          <NameDialog
            open={dialog === 'rename'}
            onClose={() => setDialog(null)}
            title={t('groups.rename')}
            field={t('groups.newName')}
            hint={t('layout.renameHint')}
            button={t('groups.renameButton')}
            onSubmit={(name) => renameGroup(app(), group, name)}
          />
        </div>
      ) : (
        me !== null && (
          <div className="drawer-actions">
            <ConfirmButton
              question={t('layout.leaveQuestion', { group: group.name })}
              detail={t('layout.leaveDetail')}
              confirm={t('groups.leave')}
              onConfirm={() => void run(leaveGroup(app(), group, me))}
            >
              {t('groups.leave')}
            </ConfirmButton>
          </div>
        )
      )}
    </div>
  );
}
