import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Settings } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { requestNotificationPermission } from '../desktop/notifications.js';
import { updateSettings } from '../store/sync.js';
import { ChangePassword } from './ChangePassword.js';
import { RoomExitButton } from './HostingPrompts.js';
import { ReadReceiptsSetting } from './ReadReceiptsSetting.js';
import { TrustedHosts } from './TrustedHosts.js';

export function SettingsMenu() {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const menuRef = useRef<HTMLDivElement>(null);
  const settings = useApp((state) => state.settings);
  const online = useApp((state) => state.session.status === 'online');
  const inRoom = useApp((state) => state.session.me !== null);
  // Signing out (or leaving the room) ends what the panel was opened for: it closes with it.
  const [wasInRoom, setWasInRoom] = useState(inRoom);
  if (wasInRoom !== inRoom) {
    setWasInRoom(inRoom);
    if (!inRoom) setOpen(false);
  }

  useEffect(() => {
    if (!open) return;
    const closeOnOutside = (event: PointerEvent) => {
      if (!menuRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', closeOnOutside);
    document.addEventListener('keydown', closeOnEscape);
    return () => {
      document.removeEventListener('pointerdown', closeOnOutside);
      document.removeEventListener('keydown', closeOnEscape);
    };
  }, [open]);

  const change = (changes: Partial<Settings>) => void updateSettings(app(), changes);

  return (
    <div className="settings-menu" ref={menuRef}>
      <button type="button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
        {t('settings.menu')}
      </button>
      {open && (
        <div id={panelId} className="settings-panel" role="group" aria-label={t('settings.menu')}>
          <label>
            {t('settings.language')}
            <select
              value={settings?.language ?? 'system'}
              onChange={(event) => change({ language: event.target.value as Settings['language'] })}
            >
              <option value="system">{t('settings.languageSystem')}</option>
              <option value="en">English</option>
              <option value="tr">Türkçe</option>
            </select>
          </label>
          <label>
            {t('settings.theme')}
            <select
              value={settings?.theme ?? 'system'}
              onChange={(event) => change({ theme: event.target.value as Settings['theme'] })}
            >
              <option value="system">{t('settings.themeSystem')}</option>
              <option value="light">{t('settings.themeLight')}</option>
              <option value="dark">{t('settings.themeDark')}</option>
            </select>
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={settings?.notifications ?? false}
              onChange={(event) => {
                if (event.target.checked) requestNotificationPermission();
                change({ notifications: event.target.checked });
              }}
            />
            {t('settings.notifications')}
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={settings?.doNotDisturb ?? false} onChange={(event) => change({ doNotDisturb: event.target.checked })} />
            {t('mute.doNotDisturb')}
          </label>
          <p className="settings-hint">{t('mute.doNotDisturbHint')}</p>
          <label className="checkbox">
            <input type="checkbox" checked={settings?.sendTyping ?? true} onChange={(event) => change({ sendTyping: event.target.checked })} />
            {t('typing.setting')}
          </label>
          <TrustedHosts />
          {online && <ReadReceiptsSetting />}
          {online && <ChangePassword />}
          {inRoom && <RoomExitButton exit="signOut" className="sign-out" />}
        </div>
      )}
    </div>
  );
}
