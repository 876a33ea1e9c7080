import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app } from '../app-context.js';
import { checkNewPassword } from '../lib/access.js';
import { formError } from '../lib/errors.js';
import { ErrorAlert } from './ErrorAlert.js';

/** Changes the password of the account logged in to the room; its other devices get signed out. */
export function ChangePassword() {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeated, setRepeated] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const [changed, setChanged] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setChanged(false);
    const problem = checkNewPassword(password, repeated);
    if (problem !== null) {
      setError(formError(t(`access.${problem}`)));
      return;
    }
    const result = await app().api.changePassword(current, password);
    setError(result.ok ? null : result.error);
    if (!result.ok) return;
    setChanged(true);
    setCurrent('');
    setPassword('');
    setRepeated('');
  };

  return (
    <form className="change-password" onSubmit={(event) => void onSubmit(event)} aria-label={t('access.changePassword')}>
      <h3>{t('access.changePassword')}</h3>
      <label>
        {t('access.currentPassword')}
        <input type="password" value={current} onChange={(event) => setCurrent(event.target.value)} autoComplete="current-password" required />
      </label>
      <label>
        {t('access.newPassword')}
        <input type="password" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="new-password" required />
      </label>
      <label>
        {t('access.repeatPassword')}
        <input type="password" value={repeated} onChange={(event) => setRepeated(event.target.value)} autoComplete="new-password" required />
      </label>
      <button type="submit">{t('access.changePassword')}</button>
      <p aria-live="polite">{changed && t('access.passwordChanged')}</p>
      <ErrorAlert error={error} />
    </form>
  );
}
