import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { isE2ee } from '../../src-shared/e2ee-app.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { isEncryptedConversation } from '../store/e2ee.js';
import { useClipboard } from '../lib/use-clipboard.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';

/**
 * "End-to-end encrypted" in the header of a DM or group on a host with the encrypted layer (issue 35), with a
 * lock; where the title has little room (a narrow window) the lock alone. Its name, for screen readers, is the words.
 * Elsewhere nothing: the app header's badge already says what protects the room, the link to the host.
 */
export function ConversationSecurity({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const encrypted = useApp((state) => state.session.security !== null && isEncryptedConversation(state.session, conv));
  if (!encrypted) return null;
  return (
    <span className="security-badge" data-e2ee="true" role="img" aria-label={t('e2ee.badge')} title={t('e2ee.badgeDetail')}>
      <Icon name="lock" size={12} />
      <span className="security-badge-text">{t('e2ee.badge')}</span>
    </span>
  );
}

/** A plain message in an end-to-end encrypted conversation says so: sent before encryption, or with files. */
export function PlainMark({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  const encrypted = useApp((state) => isEncryptedConversation(state.session, message.conv));
  if (!encrypted || isE2ee(message) || message.groupEvent !== undefined || message.deleted) return null;
  return <span className="plain-mark"> · {t(message.attachments?.length ? 'e2ee.plainFiles' : 'e2ee.before')}</span>;
}

/** The digits of a safety number as typed or pasted: spaces, dashes and line breaks do not count. */
const digitsOf = (text: string): string => text.replace(/[^0-9]/g, '');

/**
 * The safety number with the other person of a DM, to compare out of band (read aloud, or the number they
 * sent pasted here and compared by the app), and marking them verified.
 */
export function SafetyNumber({ user }: { user: string }) {
  const { t } = useTranslation();
  const titleId = useId();
  const pastedId = useId();
  const [pasted, setPasted] = useState('');
  const [state, setState] = useState<{ safetyNumber: string; verified: boolean } | AppError | null>(null);
  const { copied, copy } = useClipboard<'safety'>();
  useEffect(() => {
    let live = true;
    void app()
      .api.safetyNumber(user)
      .then((result) => live && setState(result.ok ? result.value : result.error));
    return () => {
      live = false;
    };
  }, [user]);
  const verify = async () => {
    const result = await app().api.markVerified(user);
    setState((current) => (result.ok ? (current !== null && 'safetyNumber' in current ? { ...current, verified: true } : current) : result.error));
  };
  return (
    <section className="safety-number" aria-labelledby={titleId}>
      <h3 id={titleId}>{t('e2ee.safetyTitle')}</h3>
      {state === null ? null : 'safetyNumber' in state ? (
        <>
          <p className="muted">{t('e2ee.safetyExplain', { name: user })}</p>
          <p className="safety-digits">
            {state.safetyNumber}
          </p>
          <p>{state.verified ? t('e2ee.verified') : t('e2ee.unverified')}</p>
          <label htmlFor={pastedId}>{t('e2ee.pasteSafety', { name: user })}</label>
          <input id={pastedId} type="text" inputMode="numeric" autoComplete="off" spellCheck={false} value={pasted} onChange={(event) => setPasted(event.target.value)} />
          {digitsOf(pasted) !== '' && (
            <p role="status" className={digitsOf(pasted) === digitsOf(state.safetyNumber) ? 'safety-match' : 'safety-mismatch'}>
              {digitsOf(pasted) === digitsOf(state.safetyNumber) ? t('e2ee.safetyMatches') : t('e2ee.safetyDiffers', { name: user })}
            </p>
          )}
          <div className="safety-actions">
            <button type="button" onClick={() => void copy(state.safetyNumber, 'safety')}>
              {copied === 'safety' ? t('security.copiedFingerprint') : t('e2ee.copySafety')}
            </button>
            {!state.verified && (
              <button type="button" onClick={() => void verify()}>
                {t('e2ee.markVerified', { name: user })}
              </button>
            )}
          </div>
        </>
      ) : state.code === 'UNSUPPORTED' ? (
        <p className="muted">{t('e2ee.safetyUnavailable')}</p>
      ) : (
        <ErrorAlert error={state} />
      )}
    </section>
  );
}
