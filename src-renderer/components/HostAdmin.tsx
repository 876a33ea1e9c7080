import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, HostAdminAction, HostAdminResult, Result } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { addressWithoutPort, userActions } from '../lib/access.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Runs host admin actions, keeping the last error to show. */
function useHostAdmin() {
  const [error, setError] = useState<AppError | null>(null);
  const run = async (action: HostAdminAction): Promise<Result<HostAdminResult>> => {
    const result = await app().api.hostAdmin(action);
    setError(result.ok ? null : result.error);
    return result;
  };
  return { error, run };
}

/** Connected users with their addresses and client versions, each with Kick, Ban and Mute. */
export function ConnectedUsers() {
  const { t } = useTranslation();
  const users = useApp((state) => state.hostUsers);
  const me = useApp((state) => state.session.me);
  const { error, run } = useHostAdmin();

  const act = (name: string, key: string, action: HostAdminAction) => {
    if (key === 'ban' && !window.confirm(t('access.banConfirm', { name }))) return;
    void run(action);
  };
  const banAddress = (address: string) => {
    if (!window.confirm(t('access.banAddressConfirm', { address }))) return;
    void run({ kind: 'banAddress', address });
  };

  return (
    <>
      <h3 id="host-users">{t('host.users')}</h3>
      {users.length === 0 ? (
        <p className="muted">{t('host.noUsers')}</p>
      ) : (
        <ul aria-labelledby="host-users" className="host-users">
          {users.map((user) => (
            <li key={user.name}>
              <span className="host-user-name">{user.name}</span>{' '}
              {user.muted && <span className="badge">{t('access.muted')}</span>}{' '}
              <span className="muted">
                {t('host.connections', { count: user.connections })}
                {user.addresses.length > 0 && ` · ${user.addresses.join(', ')}`}
                {user.clients.length > 0 && ` · ${[...new Set(user.clients)].join(', ')}`}
              </span>
              {/* The server refuses actions on the host's own account; no buttons invite them. */}
              {!sameName(user.name, me) && (
                <span className="host-user-actions">
                  {userActions(user.name, user.muted).map(({ key, action }) => (
                    <button
                      key={key}
                      type="button"
                      className={key === 'ban' ? 'danger' : undefined}
                      aria-label={t(`access.${key}Label`, { name: user.name })}
                      onClick={() => act(user.name, key, action)}
                    >
                      {t(`access.${key}`)}
                    </button>
                  ))}
                  {[...new Set(user.addresses.map(addressWithoutPort))].map((address) => (
                    <button
                      key={address}
                      type="button"
                      className="danger"
                      aria-label={t('access.banAddressLabel', { address })}
                      onClick={() => banAddress(address)}
                    >
                      {t('access.banAddress')}
                    </button>
                  ))}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorAlert error={error} />
    </>
  );
}

/** Accounts waiting for approval, each with Approve and Reject. Nothing when none wait. */
export function PendingApprovals() {
  const { t } = useTranslation();
  const pending = useApp((state) => state.hostPending);
  const { error, run } = useHostAdmin();
  if (pending.length === 0 && error === null) return null;
  return (
    <>
      <h3 id="host-pending">{t('access.pending')}</h3>
      <ul aria-labelledby="host-pending" className="host-users">
        {pending.map((user) => (
          <li key={user.name}>
            <span className="host-user-name">{user.name}</span>
            <span className="host-user-actions">
              <button type="button" aria-label={t('access.approveLabel', { name: user.name })} onClick={() => void run({ kind: 'approve', user: user.name })}>
                {t('access.approve')}
              </button>
              <button type="button" aria-label={t('access.rejectLabel', { name: user.name })} onClick={() => void run({ kind: 'reject', user: user.name })}>
                {t('access.reject')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
    </>
  );
}

/** Banned names and addresses, each with Unban. Nothing when there are none. */
export function BanList() {
  const { t } = useTranslation();
  const bans = useApp((state) => state.hostBans);
  const { error, run } = useHostAdmin();
  if (bans.length === 0 && error === null) return null;
  return (
    <>
      <h3 id="host-bans">{t('access.bans')}</h3>
      <ul aria-labelledby="host-bans" className="host-users">
        {bans.map((ban) => (
          <li key={`${ban.kind}:${ban.value}`}>
            <span className="host-user-name">{ban.value}</span>
            <span className="host-user-actions">
              <button
                type="button"
                aria-label={t('access.unbanLabel', { value: ban.value })}
                onClick={() =>
                  void run(ban.kind === 'name' ? { kind: 'unban', user: ban.value } : { kind: 'unbanAddress', address: ban.value })
                }
              >
                {t('access.unban')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
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
