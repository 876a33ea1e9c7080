import { useTranslation } from 'react-i18next';
import { useApp } from '../app-context.js';
import { errorText } from '../i18n/index.js';
import { SecurityBadge } from './SecurityInfo.js';

/** The connection state, announced politely when it changes, with the reason while reconnecting. */
export function ConnectionStatus() {
  const { t } = useTranslation();
  const status = useApp((state) => state.session.status);
  const error = useApp((state) => state.session.error);
  return (
    <div className="connection">
      <span role="status" className="connection-status" data-status={status}>
        {t(`status.${status}`)}
      </span>
      <SecurityBadge />
      {status === 'reconnecting' && error !== null && (
        <span className="connection-detail">{t('status.lost', { message: errorText(t, error) })}</span>
      )}
    </div>
  );
}
