import { useTranslation } from 'react-i18next';
import { useApp } from '../app-context.js';
import { CopyAddresses } from './CopyAddress.js';

/** The room with nobody else in it: how to invite people, with the address to share. */
export function InviteNote() {
  const { t } = useTranslation();
  const session = useApp((state) => state.session);
  const addresses =
    session.hosting?.addresses ?? (session.server === null ? [] : [formatHostPort(session.server.host, session.server.port)]);
  return (
    <section className="invite-note" aria-labelledby="invite-title">
      <h2 id="invite-title">{t('layout.inviteTitle')}</h2>
      <p>{t('layout.inviteText')}</p>
      <CopyAddresses addresses={addresses} labelledBy="invite-title" />
    </section>
  );
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
