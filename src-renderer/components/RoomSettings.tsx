import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, HostLogEntry } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { formatClock } from '../lib/time.js';
import { stopHosting } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';
import { RoomFingerprint } from './SecurityInfo.js';
import { BanList, ConnectedUsers, PendingApprovals, ResetPasswordForm } from './HostAdmin.js';

/** While hosting: the addresses to share, who is connected, and the live server log. */
export function HostPanel() {
  const { t } = useTranslation();
  const hosting = useApp((state) => state.session.hosting);
  const [error, setError] = useState<AppError | null>(null);
  if (hosting === null) return null;

  const stop = async () => {
    const result = await stopHosting(app());
    setError(result.ok ? null : result.error);
  };

  return (
    <section className="host-panel" aria-label={t('host.panel')}>
      <h2>{t('host.title', { room: hosting.roomName })}</h2>
      <AddressList addresses={hosting.addresses} />
      {hosting.loopbackOnly && <p className="note">{t('host.loopbackOnly')}</p>}
      <RoomFingerprint fingerprint={hosting.fingerprint} />
      <ConnectedUsers />
      <PendingApprovals />
      <BanList />
      <ResetPasswordForm />
      <ServerLog />
      <ErrorAlert error={error} />
      <button type="button" className="danger" onClick={() => void stop()}>
        {t('host.stop')}
      </button>
    </section>
  );
}

function AddressList({ addresses }: { addresses: string[] }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState<string | null>(null);

  const copy = async (address: string) => {
    try {
      await navigator.clipboard.writeText(address);
      setCopied(address);
    } catch {
      setCopied(null);
    }
  };

  return (
    <>
      <h3 id="host-addresses">{t('host.addresses')}</h3>
      <ul aria-labelledby="host-addresses" className="addresses">
        {addresses.map((address) => (
          <li key={address}>
            <code>{address}</code>
            <button type="button" aria-label={t('host.copyLabel', { address })} onClick={() => void copy(address)}>
              {t('host.copy')}
            </button>
          </li>
        ))}
      </ul>
      <p className="copied" aria-live="polite">
        {copied !== null && t('host.copied', { address: copied })}
      </p>
    </>
  );
}

/** Fields of a log entry besides the ones shown in their own columns. */
function details(entry: HostLogEntry): string {
  const { time: _time, level: _level, event: _event, ...fields } = entry;
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

function ServerLog() {
  const { t } = useTranslation();
  const entries = useApp((state) => state.hostLog);
  const logRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  useEffect(() => {
    const element = logRef.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [entries]);

  return (
    <>
      <h3 id="server-log-title">{t('host.log')}</h3>
      <div
        ref={logRef}
        role="log"
        aria-label={t('host.log')}
        className="server-log"
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget;
          following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
        }}
      >
        {entries.map((entry, index) => (
          <div key={index} className="log-entry" data-level={entry.level}>
            <time dateTime={entry.time}>{formatClock(Date.parse(entry.time))}</time> <span className="log-event">{entry.event}</span>{' '}
            <span className="log-details">{details(entry)}</span>
          </div>
        ))}
      </div>
    </>
  );
}
