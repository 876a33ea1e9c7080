import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, TrustedHost } from '../../src-shared/api.js';
import { app } from '../app-context.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Fingerprint } from './SecurityInfo.js';

/**
 * The hosts this profile trusts (trust on first use), each with its fingerprint or the consent to join
 * it unencrypted, and Forget: the next join compares the fingerprint again, or asks again.
 */
export function TrustedHosts() {
  const { t } = useTranslation();
  const listId = useId();
  const [open, setOpen] = useState(false);
  const [hosts, setHosts] = useState<TrustedHost[]>([]);
  const [error, setError] = useState<AppError | null>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  /** The list as the app has it; the error of `after` (a forget), if any, stays shown. */
  const load = useCallback(async (after: AppError | null = null) => {
    const result = await app().api.trustedHosts();
    if (result.ok) setHosts(result.value);
    setError(after ?? (result.ok ? null : result.error));
  }, []);
  useEffect(() => void load(), [load]);

  const forget = async (server: string) => {
    const result = await app().api.forgetHost(server);
    await load(result.ok ? null : result.error);
    // Its row, and the button that had focus, are gone.
    toggle.current?.focus();
  };

  return (
    <section className="trusted-hosts">
      <button ref={toggle} type="button" className="disclosure" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
        {t('security.trusted', { count: hosts.length })}
      </button>
      {open && (
        <div id={listId}>
          <p className="muted">{t('security.trustedHint')}</p>
          {hosts.length === 0 ? (
            <p className="muted">{t('security.trustedNone')}</p>
          ) : (
            <ul aria-label={t('security.trusted', { count: hosts.length })}>
              {hosts.map(({ server, fingerprint, roomName }) => (
                <li key={server}>
                  <span className="trusted-host-server">{server}</span>
                  {roomName !== null && <strong className="trusted-host-room">{roomName}</strong>}
                  {fingerprint === null ? <span className="muted">{t('security.trustedUnencrypted')}</span> : <Fingerprint value={fingerprint} />}
                  <ConfirmButton
                    className="danger small"
                    label={t('security.forgetLabel', { server })}
                    question={t('security.forgetQuestion', { server })}
                    detail={t(fingerprint === null ? 'security.forgetUnencrypted' : 'security.forgetEncrypted')}
                    confirm={t('security.forget')}
                    onConfirm={() => void forget(server)}
                  >
                    {t('security.forget')}
                  </ConfirmButton>
                </li>
              ))}
            </ul>
          )}
          <ErrorAlert error={error} />
        </div>
      )}
    </section>
  );
}
