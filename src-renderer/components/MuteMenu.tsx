import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { type MuteChoice, type Mutes, isMuted, muteUntil } from '../../src-shared/notify.js';
import { app, useApp } from '../app-context.js';
import { formatDate } from '../lib/time.js';
import { updateSettings } from '../store/sync.js';
import { Icon } from './Icons.js';
import { MenuButton } from './MenuButton.js';

const NO_MUTES: Mutes = {};

/** Mutes are kept in the profile's settings; expired ones are dropped whenever one changes. */
function changeMute(mutes: Mutes, conv: ConversationKey, until: Mutes[string] | null, now: number): Mutes {
  const kept = Object.fromEntries(Object.entries(mutes).filter(([key]) => key !== conv && isMuted(mutes, key, now)));
  return until === null ? kept : { ...kept, [conv]: until };
}

/** The conversation header's notifications menu: mute for a while or until unmuted. */
export const MuteMenu = memo(function MuteMenu({ conv }: { conv: ConversationKey }) {
  const { t, i18n } = useTranslation();
  const mutes = useApp((state) => state.settings?.mutes ?? NO_MUTES);
  const now = Date.now();
  const muted = isMuted(mutes, conv, now);
  const until = mutes[conv];
  const set = (value: Mutes[string] | null) => void updateSettings(app(), { mutes: changeMute(mutes, conv, value, Date.now()) });
  const choice = (key: MuteChoice, label: string) => ({ label, onSelect: () => set(muteUntil(key, Date.now())) });
  const state = !muted
    ? undefined
    : until === 'always'
      ? t('mute.mutedAlways')
      : t('mute.mutedUntil', { time: formatDate(until!, i18n.language, { dateStyle: 'medium', timeStyle: 'short' }) });
  return (
    <MenuButton
      label={state === undefined ? t('mute.menu') : `${t('mute.menu')}: ${state}`}
      items={[
        choice('hour', t('mute.hour')),
        choice('eightHours', t('mute.eightHours')),
        choice('week', t('mute.week')),
        choice('always', t('mute.always')),
        ...(muted ? [{ label: t('mute.unmute'), onSelect: () => set(null) }] : []),
      ]}
      note={state === undefined ? t('mute.hint') : `${state}. ${t('mute.hint')}`}
    >
      <Icon name={muted ? 'bellOff' : 'bell'} />
    </MenuButton>
  );
});
