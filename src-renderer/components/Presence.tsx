import { useTranslation } from 'react-i18next';
import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { formatMoment } from '../lib/time.js';

/** "online", "last seen …" or "offline" for a person. */
export function Presence({ user }: { user: UserInfo | undefined }) {
  const { t, i18n } = useTranslation();
  if (user?.online) return <>{t('contacts.onlineShort')}</>;
  if (user?.lastSeen == null) return <>{t('contacts.offlineShort')}</>;
  return <>{t('contacts.lastSeenShort', { time: formatMoment(user.lastSeen, Date.now(), i18n.language) })}</>;
}
