import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { useApp } from '../app-context.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Whether the link to the host is encrypted; the first time, the fingerprint to compare with the host's. */
export function SecurityBadge() {
  const { t } = useTranslation();
  const security = useApp((state) => state.session.security);
  const [dismissed, setDismissed] = useState<string | null>(null);
  if (security === null) return null;
  if (!security.encrypted) {
    return (
      <span role="status" aria-label={t('security.badge')} className="security-badge" data-encrypted="false" title={t('security.notEncryptedDetail')}>
        {t('security.notEncrypted')}
      </span>
    );
  }
  return (
    <>
      <span
        role="status"
        aria-label={t('security.badge')}
        className="security-badge"
        data-encrypted="true"
        title={t('security.encryptedDetail', { fingerprint: security.fingerprint })}
      >
        {t('security.encrypted')}
      </span>
      {security.firstUse && dismissed !== security.fingerprint && (
        <p role="note" className="note security-first-use">
          {t('security.firstUse', { fingerprint: security.fingerprint })}{' '}
          {security.matchesAnnounced && `${t('security.matchesAnnounced')} `}
          <button type="button" onClick={() => setDismissed(security.fingerprint)}>
            {t('security.dismiss')}
          </button>
        </p>
      )}
    </>
  );
}

/** For the host panel: the fingerprint joiners will be shown, or that the room is not encrypted. */
export function RoomFingerprint({ fingerprint }: { fingerprint: string | null }) {
  const { t } = useTranslation();
  if (fingerprint === null) {
    return (
      <p className="note security-off" role="note">
        <strong>{t('security.notEncrypted')}</strong>: {t('security.notEncryptedDetail')}
      </p>
    );
  }
  return (
    <>
      <h3 id="room-fingerprint">{t('security.roomFingerprint')}</h3>
      <p role="note" aria-labelledby="room-fingerprint">
        <code className="fingerprint">{fingerprint}</code>
      </p>
      <p className="hint">{t('security.roomFingerprintHint')}</p>
    </>
  );
}

/**
 * Why entering a room failed. When it failed for security, also the one explicit
 * way on: both fingerprints and a Trust button when the host's identity changed,
 * a Join-without-encryption button when the host does not encrypt.
 */
export function EnterRoomError({
  error,
  onTrust,
  onJoinUnencrypted,
}: {
  error: AppError | null;
  onTrust: (fingerprint: string) => void;
  onJoinUnencrypted: () => void;
}) {
  const { t } = useTranslation();
  if (error?.code === 'FINGERPRINT_CHANGED' && error.fingerprints) {
    const { pinned, presented } = error.fingerprints;
    return (
      <section role="alert" className="trust-prompt" aria-label={t('security.changedTitle')}>
        <h3>{t('security.changedTitle')}</h3>
        <dl>
          <dt>{error.fingerprints.announced ? t('security.announced') : t('security.pinned')}</dt>
          <dd>
            <code className="fingerprint">{pinned}</code>
          </dd>
          <dt>{t('security.presented')}</dt>
          <dd>
            <code className="fingerprint">{presented}</code>
          </dd>
        </dl>
        <p>{t('security.changedAdvice')}</p>
        <button type="button" className="danger" onClick={() => onTrust(presented)}>
          {t('security.trustNew')}
        </button>
      </section>
    );
  }
  if (error?.code === 'NOT_ENCRYPTED') {
    return (
      <>
        <ErrorAlert error={error} />
        <button type="button" className="danger" onClick={onJoinUnencrypted}>
          {t('security.joinUnencrypted')}
        </button>
      </>
    );
  }
  return <ErrorAlert error={error} />;
}
