import { useId, useState } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { useClipboard } from '../lib/use-clipboard.js';
import { signOut } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';

/**
 * Whether the link to the host is encrypted. Only that link: the host reads every message, so the
 * badge says "to the host" until end-to-end encryption exists (issue 20).
 */
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
    </>
  );
}

/**
 * The first time this app meets a host's certificate: a bar under the header (not in it) with the
 * fingerprint in blocks, what to compare it with, and the choice. Trust keeps the pin; Cancel signs
 * out and forgets the host, so the next join asks again. Only in the main window; the answer goes
 * to the app, so a pop-out window does not ask again.
 */
export function FirstUseBar() {
  const { t } = useTranslation();
  const titleId = useId();
  const security = useApp((state) => state.session.security);
  const server = useApp((state) => state.session.server);
  const [busy, setBusy] = useState(false);
  if (security === null || !security.encrypted || !security.firstUse) return null;
  const cancel = async () => {
    setBusy(true);
    const { api } = app();
    await signOut(app());
    // The key the app pins a host by (core/pins.ts serverKey).
    if (server !== null) await api.forgetHost(`${server.host.toLowerCase()}:${server.port}`);
    setBusy(false);
  };
  return (
    <section className="first-use-bar" aria-labelledby={titleId} aria-busy={busy}>
      <div className="first-use-text">
        <h2 id={titleId}>{t('security.firstUseTitle')}</h2>
        <p>{t('security.firstUseCompare')}</p>
        <FingerprintWithCopy value={security.fingerprint} />
      </div>
      <div className="first-use-actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void app().api.acknowledgeFingerprint()}>
          {t('security.trust')}
        </button>
        <button type="button" disabled={busy} onClick={() => void cancel()}>
          {t('security.cancelTrust')}
        </button>
      </div>
    </section>
  );
}

/** Bytes per block of a shown fingerprint, as Signal shows a safety number in blocks of digits. */
const FINGERPRINT_GROUP = 4;

/**
 * A fingerprint in blocks of whole bytes that wrap as blocks, never inside one. The colon after
 * each block is kept in the text (copied with a selection, read by screen readers) but takes no room.
 */
export function Fingerprint({ value }: { value: string }) {
  const bytes = value.split(':');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += FINGERPRINT_GROUP) groups.push(bytes.slice(i, i + FINGERPRINT_GROUP).join(':'));
  const pairs: number[] = [];
  for (let i = 0; i < groups.length; i += 2) pairs.push(i);
  const block = (index: number) =>
    index < groups.length && (
      <span className="fingerprint-group">
        {groups[index]}
        {index < groups.length - 1 && <span className="fingerprint-sep">:</span>}
      </span>
    );
  // Blocks wrap in pairs: rows of four or of two, never a lone block left over.
  return (
    <code className="fingerprint">
      {pairs.map((first) => (
        <span key={first} className="fingerprint-pair">
          {block(first)}
          {block(first + 1)}
        </span>
      ))}
    </code>
  );
}

/** A fingerprint in blocks with a button that copies it whole, to paste where the host's can be compared. */
export function FingerprintWithCopy({ value }: { value: string }) {
  return (
    <span className="fingerprint-copy">
      <Fingerprint value={value} />
      <CopyFingerprint value={value} />
    </span>
  );
}

function CopyFingerprint({ value }: { value: string }) {
  const { t } = useTranslation();
  const { copied, copy } = useClipboard<true>();
  return (
    <button type="button" className="icon-text" onClick={() => void copy(value, true)}>
      <Icon name={copied ? 'check' : 'copy'} size={16} /> {copied ? t('security.copiedFingerprint') : t('security.copyFingerprint')}
    </button>
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
      <div className="fingerprint-copy">
        <p role="note" aria-labelledby="room-fingerprint">
          <Fingerprint value={fingerprint} />
        </p>
        <CopyFingerprint value={fingerprint} />
      </div>
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
