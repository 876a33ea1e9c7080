import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, HostAdminAction, HostAdminResult, HostSilentAccounts, Result } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { addressWithoutPort, userActions } from '../lib/access.js';
import { formatMoment } from '../lib/time.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ErrorAlert } from './ErrorAlert.js';
import { VirtualList, useFindByName } from './VirtualList.js';

/** Runs host admin actions, keeping the last error to show. */
function useHostAdmin() {
  const [error, setError] = useState<AppError | null>(null);
  const run = async (action: HostAdminAction): Promise<Result<HostAdminResult>> => {
    const result = await app().api.hostAdmin(action);
    setError(result.ok ? null : result.error);
    return result;
  };
  return { error, setError, run };
}

interface HostListProps<T> {
  /** The heading's id, which labels the list. */
  id: string;
  title: string;
  items: readonly T[];
  keyOf(item: T): string;
  nameOf(item: T): string;
  /** Beside the name, such as a "muted" badge. */
  badge?(item: T): ReactNode;
  /** A line under the name. */
  detail?(item: T): ReactNode;
  actions(item: T): ReactNode;
  /** Shown instead of an empty list. */
  empty?: string;
  error: AppError | null;
}

/** A row: a name and its details above a line of buttons, before it is measured. */
const HOST_ROW_HEIGHT = 64;

/**
 * A titled list of names, each with its actions: the shape of every list in the host panel.
 * Virtualized, with a box to find a name: a host of a room of thousands opens this panel at once.
 */
function HostList<T>({ id, title, items, keyOf, nameOf, badge, detail, actions, empty, error }: HostListProps<T>) {
  const { t } = useTranslation();
  const { shown, box } = useFindByName(items, nameOf, t('host.find', { list: title }));
  return (
    <>
      <h3 id={id}>{title}</h3>
      {box}
      {items.length === 0 && empty !== undefined && <p className="muted">{empty}</p>}
      {items.length > 0 && shown.length === 0 && <p className="muted">{t('contacts.noMatch')}</p>}
      {shown.length > 0 && (
        <VirtualList items={shown} keyOf={keyOf} estimate={HOST_ROW_HEIGHT} labelledBy={id} className="host-users">
          {(item) => (
            <>
              <span className="host-user-head">
                <span className="host-user-name">{nameOf(item)}</span>
                {badge?.(item)}
              </span>
              {detail && <span className="host-user-detail">{detail(item)}</span>}
              <span className="host-user-actions">{actions(item)}</span>
            </>
          )}
        </VirtualList>
      )}
      <ErrorAlert error={error} />
    </>
  );
}

/** Connected users with their addresses and client versions, each with Kick, Ban and Mute. */
export function ConnectedUsers() {
  const { t } = useTranslation();
  const users = useApp((state) => state.hostUsers);
  const me = useApp((state) => state.session.me);
  const { error, run } = useHostAdmin();

  return (
    <HostList
      id="host-users"
      title={t('host.users')}
      items={users}
      keyOf={(user) => user.name}
      nameOf={(user) => user.name}
      empty={t('host.noUsers')}
      error={error}
      badge={(user) => user.muted && <span className="badge">{t('access.muted')}</span>}
      detail={(user) => (
        <span className="muted">
          {t('host.connections', { count: user.connections })}
          {user.addresses.length > 0 && ` · ${user.addresses.join(', ')}`}
          {user.clients.length > 0 && ` · ${[...new Set(user.clients)].join(', ')}`}
        </span>
      )}
      // The server refuses actions on the host's own account; no buttons invite them.
      actions={(user) =>
        !sameName(user.name, me) && (
          <>
            {userActions(user.name, user.muted).map(({ key, action }) =>
              key === 'kick' || key === 'ban' ? (
                <ConfirmButton
                  key={key}
                  className="danger small"
                  label={t(`access.${key}Label`, { name: user.name })}
                  question={t(`access.${key}Question`, { name: user.name })}
                  detail={t(`access.${key}Confirm`, { name: user.name })}
                  confirm={t(`access.${key}`)}
                  onConfirm={() => void run(action)}
                >
                  {t(`access.${key}`)}
                </ConfirmButton>
              ) : (
                <button
                  key={key}
                  type="button"
                  className="small"
                  aria-label={t(`access.${key}Label`, { name: user.name })}
                  onClick={() => void run(action)}
                >
                  {t(`access.${key}`)}
                </button>
              ),
            )}
            {[...new Set(user.addresses.map(addressWithoutPort))].map((address) => (
              <ConfirmButton
                key={address}
                className="danger small"
                label={t('access.banAddressLabel', { address })}
                question={t('access.banAddressQuestion', { address })}
                detail={t('access.banAddressConfirm', { address })}
                confirm={t('access.banAddress')}
                onConfirm={() => void run({ kind: 'banAddress', address })}
              >
                {t('access.banAddress')}
              </ConfirmButton>
            ))}
          </>
        )
      }
    />
  );
}

/** Accounts waiting for approval, each with Approve and Reject. Nothing when none wait. */
export function PendingApprovals() {
  const { t } = useTranslation();
  const pending = useApp((state) => state.hostPending);
  const { error, run } = useHostAdmin();
  if (pending.length === 0 && error === null) return null;
  return (
    <HostList
      id="host-pending"
      title={t('access.pending')}
      items={pending}
      keyOf={(user) => user.name}
      nameOf={(user) => user.name}
      error={error}
      actions={(user) => (
        <>
          <button type="button" aria-label={t('access.approveLabel', { name: user.name })} onClick={() => void run({ kind: 'approve', user: user.name })}>
            {t('access.approve')}
          </button>
          <button type="button" aria-label={t('access.rejectLabel', { name: user.name })} onClick={() => void run({ kind: 'reject', user: user.name })}>
            {t('access.reject')}
          </button>
        </>
      )}
    />
  );
}

/** Banned names and addresses, each with Unban. Nothing when there are none. */
export function BanList() {
  const { t } = useTranslation();
  const bans = useApp((state) => state.hostBans);
  const { error, run } = useHostAdmin();
  if (bans.length === 0 && error === null) return null;
  return (
    <HostList
      id="host-bans"
      title={t('access.bans')}
      items={bans}
      keyOf={(ban) => `${ban.kind}:${ban.value}`}
      nameOf={(ban) => ban.value}
      error={error}
      actions={(ban) => (
        <button
          type="button"
          aria-label={t('access.unbanLabel', { value: ban.value })}
          onClick={() => void run(ban.kind === 'name' ? { kind: 'unban', user: ban.value } : { kind: 'unbanAddress', address: ban.value })}
        >
          {t('access.unban')}
        </button>
      )}
    />
  );
}

/**
 * Accounts that never wrote and are offline (what a registration storm leaves), with a Purge
 * that deletes them all after asking. Read when the panel opens and on Refresh.
 */
export function SilentAccounts() {
  const { t, i18n } = useTranslation();
  const [found, setFound] = useState<HostSilentAccounts | null>(null);
  const [purged, setPurged] = useState<number | null>(null);
  const { error, setError, run } = useHostAdmin();

  const load = useCallback(async () => {
    const result = await app().api.hostSilentAccounts();
    if (result.ok) setFound(result.value);
    else setError(result.error);
  }, [setError]);
  useEffect(() => {
    void load();
  }, [load]);

  const purge = async () => {
    const result = await run({ kind: 'purgeSilent' });
    if (result.ok) setPurged(result.value.purged ?? 0);
    await load();
  };

  const count = found?.count ?? 0;
  const more = count - (found?.accounts.length ?? 0);
  return (
    <>
      <HostList
        id="host-silent"
        title={t('access.silentTitle')}
        items={found?.accounts ?? []}
        keyOf={(account) => account.name}
        nameOf={(account) => account.name}
        empty={found === null ? '' : t('access.silentNone')}
        error={error}
        detail={(account) => <span className="muted">{t('access.silentSince', { date: formatMoment(account.createdAt, Date.now(), i18n.language) })}</span>}
        actions={() => null}
      />
      {count > 0 && <p className="muted">{more > 0 ? t('access.silentCountMore', { count, more }) : t('access.silentCount', { count })}</p>}
      <p aria-live="polite">{purged !== null && t('access.purgeDone', { count: purged })}</p>
      <div className="host-user-actions">
        <button type="button" className="small" onClick={() => void load()}>
          {t('access.silentRefresh')}
        </button>
        {count > 0 && (
          <ConfirmButton
            className="danger small"
            question={t('access.purgeQuestion', { count })}
            detail={t('access.purgeConfirm')}
            confirm={t('access.purge')}
            onConfirm={() => void purge()}
          >
            {t('access.purge')}
          </ConfirmButton>
        )}
      </div>
    </>
  );
}

/** Sets a generated password for a user who forgot theirs and shows it to the host. */
export function ResetPasswordForm() {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [done, setDone] = useState<{ name: string; password: string } | null>(null);
  const { error, run } = useHostAdmin();

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const user = name.trim();
    const result = await run({ kind: 'resetPassword', user });
    setDone(result.ok && result.value.password !== undefined ? { name: user, password: result.value.password } : null);
  };

  return (
    <form className="reset-password" onSubmit={(event) => void onSubmit(event)} aria-label={t('access.resetTitle')}>
      <h3>{t('access.resetTitle')}</h3>
      <label>
        {t('access.resetUser')}
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <button type="submit">{t('access.reset')}</button>
      <p aria-live="polite">{done !== null && t('access.resetDone', done)}</p>
      <ErrorAlert error={error} />
    </form>
  );
}
