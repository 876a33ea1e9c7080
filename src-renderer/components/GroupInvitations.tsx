import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { GroupInvitation } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { answerInvitation } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Invitations to groups, each with Join and Decline. Hidden while there are none. */
export function GroupInvitations() {
  const { t } = useTranslation();
  const invitations = useApp((state) => state.invitations);
  const [error, setError] = useState<AppError | null>(null);

  if (invitations.length === 0 && error === null) return null;

  const answer = async (invitation: GroupInvitation, accept: boolean) => {
    const result = await answerInvitation(app(), invitation, accept);
    setError(result.ok ? null : result.error);
  };

  return (
    <section className="sidebar-section group-invitations" aria-labelledby="group-invitations-title">
      <h2 id="group-invitations-title">{t('invitations.title')}</h2>
      <ul>
        {invitations.map((invitation) => (
          <li key={invitation.groupId} className="request">
            <span>{t('invitations.invites', { inviter: invitation.inviter, group: invitation.name })}</span>
            <span className="request-actions">
              <button
                type="button"
                className="primary"
                aria-label={t('invitations.accept', { group: invitation.name })}
                onClick={() => void answer(invitation, true)}
              >
                {t('invitations.acceptShort')}
              </button>
              <button
                type="button"
                aria-label={t('invitations.decline', { group: invitation.name })}
                onClick={() => void answer(invitation, false)}
              >
                {t('invitations.declineShort')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
    </section>
  );
}
