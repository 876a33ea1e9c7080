import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { app, useApp } from '../app-context.js';
import { answerInvitation } from '../store/group-actions.js';
import { RequestList } from './RequestList.js';

/** Invitations to groups, each with Join and Decline. Hidden while there are none. */
export const GroupInvitations = memo(function GroupInvitations() {
  const { t } = useTranslation();
  const invitations = useApp((state) => state.invitations);
  const items = invitations.map((invitation) => ({
    key: String(invitation.groupId),
    text: t('invitations.invites', { inviter: invitation.inviter, group: invitation.name }),
    acceptLabel: t('invitations.accept', { group: invitation.name }),
    declineLabel: t('invitations.decline', { group: invitation.name }),
    answer: (accept: boolean) => answerInvitation(app(), invitation, accept),
  }));
  return (
    <RequestList
      id="group-invitations"
      title={t('invitations.title')}
      items={items}
      acceptShort={t('invitations.acceptShort')}
      declineShort={t('invitations.declineShort')}
    />
  );
});
