import { useTranslation } from 'react-i18next';
import { useApp } from '../app-context.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { ResumedRoomNotice, RoomExitButton } from './HostingPrompts.js';
import { Icon } from './Icons.js';
import { SettingsMenu } from './SettingsMenu.js';

export function AppHeader() {
  const { t } = useTranslation();
  const session = useApp((state) => state.session);
  const roomSettingsOpen = useApp((state) => state.drawer === 'roomSettings');
  const setDrawer = useApp((state) => state.setDrawer);
  const inRoom = session.me !== null && session.status !== 'offline';

  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-name">{t('appName')}</span>
        {inRoom && session.roomName && <span className="brand-room">{session.roomName}</span>}
        {inRoom && session.me && <span className="brand-me">{session.me}</span>}
      </div>
      <ConnectionStatus />
      <div className="header-actions">
        {inRoom && session.hosting && (
          <button
            type="button"
            className="icon-text"
            aria-expanded={roomSettingsOpen}
            onClick={() => setDrawer(roomSettingsOpen ? null : 'roomSettings')}
          >
            <Icon name="settings" size={16} /> {t('header.roomSettings')}
          </button>
        )}
        {inRoom && <RoomExitButton exit="leave" />}
        {inRoom && <ResumedRoomNotice />}
        <SettingsMenu />
      </div>
    </header>
  );
}
