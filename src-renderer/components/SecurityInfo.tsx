import { Fragment, useState } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Whether the link to the host is encrypted; the first time, the fingerprint to compare with the host's. */
export function SecurityBadge() {
  const { t } = useTranslation();
  const security = useApp((state) => state.session.security);
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
      {security.firstUse && (
        <p role="note" className="note security-first-use">
          <FirstUseText fingerprint={security.fingerprint} />{' '}
          {/* Told to the app, not kept in this window: a pop-out window must not ask again. */}
          <button type="button" onClick={() => void app().api.acknowledgeFingerprint()}>
            {t('security.dismiss')}
          </button>
        </p>
      )}
    </>
  );
}

/** The first-use sentence with the fingerprint in byte groups, so it never wraps inside a byte. */
function FirstUseText({ fingerprint }: { fingerprint: string }) {
  const { t } = useTranslation();
  const slot = '\u0000';
  const [before = '', after = ''] = t('security.firstUse', { fingerprint: slot }).split(slot);
  return (
    <>
      {before}
      <Fingerprint value={fingerprint} />
      {after}
    </>
  );
}

/** Bytes per group of a shown fingerprint; lines break only between groups. */
const FINGERPRINT_GROUP = 4;

/** A fingerprint in groups of whole bytes, so it wraps between bytes, never inside one; its text is unchanged. */
export function Fingerprint({ value }: { value: string }) {
  const bytes = value.split(':');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += FINGERPRINT_GROUP) {
    const last = i + FINGERPRINT_GROUP >= bytes.length;
    groups.push(bytes.slice(i, i + FINGERPRINT_GROUP).join(':') + (last ? '' : ':'));
  }
  return (
    <code className="fingerprint">
      {groups.map((group, index) => (
        <Fragment key={index}>
          {index > 0 && <wbr />}
          <span className="fingerprint-group">{group}</span>
        </Fragment>
      ))}
    </code>
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
        <Fingerprint value={fingerprint} />
      </p>
      <p className="hint">{t('security.roomFingerprintHint')}</p>
    </>
  );
}

/**
 * Why entering a room failed. When it failed for security, also the one explicit
 * way on: both fingerprints and a Trust button when the host's identity changed,
 * a Join-without-encryption button when the host does not encrypt, and for a room
 * that calls itself like one joined before, a confirmation of its own.
 */
export function EnterRoomError({
  error,
  onTrust,
  onJoinUnencrypted,
  onDifferentRoom,
}: {
  error: AppError | null;
  onTrust: (fingerprint: string) => void;
  onJoinUnencrypted: () => void;
  /** The user confirmed the look-alike is another room; `presented` is its fingerprint (null: not encrypted). */
  onDifferentRoom: (presented: string | null) => void;
}) {
  const { t } = useTranslation();
  if (error?.code === 'LOOKALIKE_ROOM' && error.lookalike) {
    // Keyed by the certificate, so a confirmation never carries over to another look-alike.
    return <LookalikeWarning key={error.lookalike.presented ?? 'unencrypted'} lookalike={error.lookalike} onDifferentRoom={onDifferentRoom} />;
  }
  if (error?.code === 'FINGERPRINT_CHANGED' && error.fingerprints) {
    const { pinned, presented } = error.fingerprints;
    return (
      <section role="alert" className="trust-prompt" aria-label={t('security.changedTitle')}>
        <h3>{t('security.changedTitle')}</h3>
        <dl>
          <dt>{error.fingerprints.announced ? t('security.announced') : t('security.pinned')}</dt>
          <dd>
            <Fingerprint value={pinned} />
          </dd>
          <dt>{t('security.presented')}</dt>
          <dd>
            <Fingerprint value={presented} />
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
  return <ErrorAlert error={error} text={error ? joinErrorText(t, error) : undefined} />;
}

/**
 * Signal's "this is not the contact you talked to before", for rooms: unlike a first use, going on
 * takes ticking that the user knows it is a different room, then the button.
 */
function LookalikeWarning({
  lookalike: { roomName, known, presented },
  onDifferentRoom,
}: {
  lookalike: NonNullable<AppError['lookalike']>;
  onDifferentRoom: (presented: string | null) => void;
}) {
  const { t } = useTranslation();
  const [sure, setSure] = useState(false);
  const title = t('security.lookalikeTitle', { room: roomName });
  return (
    <section role="alert" className="trust-prompt lookalike-prompt" aria-label={title}>
      <h3>{title}</h3>
      <p>{t('security.lookalikeExplain')}</p>
      <dl>
        <dt>{t('security.lookalikeKnown', { room: roomName })}</dt>
        <dd>
          <Fingerprint value={known} />
        </dd>
        <dt>{t('security.lookalikePresented')}</dt>
        <dd>{presented === null ? t('security.notEncrypted') : <Fingerprint value={presented} />}</dd>
      </dl>
      <p>{t('security.lookalikeAdvice')}</p>
      <label className="checkbox">
        <input type="checkbox" checked={sure} onChange={(event) => setSure(event.target.checked)} />
        {t('security.lookalikeConfirm', { room: roomName })}
      </label>
      <button type="button" className="danger" disabled={!sure} onClick={() => onDifferentRoom(presented)}>
        {t('security.joinDifferentRoom')}
      </button>
    </section>
  );
}

/** Sentences that say more than the code's own where a room is being entered. */
function joinErrorText(t: TFunction, error: AppError): string | undefined {
  switch (error.code) {
    // At login a wrong password most often means the name is someone else's account.
    case 'WRONG_PASSWORD':
      return t('start.wrongPassword');
    case 'PENDING_APPROVAL':
      return t('start.pendingApproval');
    // Only a retry while waiting for approval meets an unknown name: the host rejected the account.
    case 'UNKNOWN_USER':
      return t('start.rejected');
    default:
      return undefined;
  }
}
