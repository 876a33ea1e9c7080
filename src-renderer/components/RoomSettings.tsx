import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, HostLogEntry } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { formatClock } from '../lib/time.js';
import { stopHosting } from '../store/sync.js';
import { ConfirmButton } from './ConfirmButton.js';
import { CopyAddresses } from './CopyAddress.js';
import { Drawer } from './Drawer.js';
import { ErrorAlert } from './ErrorAlert.js';
import { BanList, ConnectedUsers, PendingApprovals, ResetPasswordForm, SilentAccounts } from './HostAdmin.js';
import { RoomFingerprint } from './SecurityInfo.js';

/** The host's drawer: the addresses to share, who is connected, waiting and banned, and the live server log. */
export function RoomSettings({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const hosting = useApp((state) => state.session.hosting);
  const [error, setError] = useState<AppError | null>(null);
  if (hosting === null) return null;

  const stop = async () => {
    const result = await stopHosting(app());
    setError(result.ok ? null : result.error);
  };

  return (
    <Drawer label={t('host.panel')} title={t('host.title', { room: hosting.roomName })} onClose={onClose}>
      <section className="drawer-section">
        <h3 id="host-addresses">{t('host.addresses')}</h3>
        <CopyAddresses addresses={hosting.addresses} labelledBy="host-addresses" />
        {hosting.loopbackOnly && <p className="note">{t('host.loopbackOnly')}</p>}
        <RoomFingerprint fingerprint={hosting.fingerprint} />
      </section>
      <section className="drawer-section">
        <ConnectedUsers />
        <PendingApprovals />
        <BanList />
      </section>
      <section className="drawer-section">
        <ResetPasswordForm />
      </section>
      <section className="drawer-section">
        <SilentAccounts />
      </section>
      <section className="drawer-section">
        <ServerLog />
      </section>
      <ErrorAlert error={error} />
      <div className="drawer-actions">
        <ConfirmButton
          question={t('layout.stopQuestion', { room: hosting.roomName })}
          detail={t('layout.stopDetail')}
          confirm={t('host.stop')}
          onConfirm={() => void stop()}
        >
          {t('host.stop')}
        </ConfirmButton>
      </div>
    </Drawer>
  );
}

/** A log entry's own fields besides time, level and event, as label/value pairs. */
function fieldsOf(entry: HostLogEntry): [string, string][] {
  const { time: _time, level: _level, event: _event, ...fields } = entry;
  return Object.entries(fields).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
}

function ServerLog() {
  const { t } = useTranslation();
  const entries = useApp((state) => state.hostLog);
  const [filter, setFilter] = useState('');
  const scrollRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const rows = useMemo(() => {
    const needle = filter.trim().toLocaleLowerCase();
    const all = entries.map((entry, index) => ({ index, entry, fields: fieldsOf(entry) }));
    if (needle === '') return all;
    return all.filter(({ entry, fields }) =>
      [entry.event, entry.level, ...fields.flat()].some((text) => text.toLocaleLowerCase().includes(needle)),
    );
  }, [entries, filter]);

  useEffect(() => {
    const element = scrollRef.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [rows]);

  return (
    <>
      <div className="log-heading">
        <h3 id="server-log-title">{t('host.log')}</h3>
        <input
          type="search"
          className="log-filter"
          aria-label={t('layout.logFilter')}
          placeholder={t('layout.logFilter')}
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
        />
      </div>
      <div
        ref={scrollRef}
        className="server-log"
        role="region"
        aria-labelledby="server-log-title"
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget;
          following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
        }}
      >
        <table aria-labelledby="server-log-title">
          <thead>
            <tr>
              <th scope="col">{t('layout.logTime')}</th>
              <th scope="col">{t('layout.logEvent')}</th>
              <th scope="col">{t('layout.logDetails')}</th>
            </tr>
          </thead>
          <tbody aria-live="polite" aria-relevant="additions">
            {rows.map(({ index, entry, fields }) => (
              <tr key={index} data-level={entry.level}>
                <td>
                  <time dateTime={entry.time}>{formatClock(Date.parse(entry.time))}</time>
                </td>
                <td className="log-event">{entry.event}</td>
                <td>
                  <dl className="log-fields">
                    {fields.map(([key, value]) => (
                      <div key={key}>
                        <dt>{key}</dt>
                        <dd>{value}</dd>
                      </div>
                    ))}
                  </dl>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted">{t('layout.logEmpty')}</p>}
      </div>
    </>
  );
}
