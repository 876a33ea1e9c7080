import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApp, useConversation } from '../app-context.js';
import { calls } from '../calls/controller.js';
import { formatDuration } from '../calls/format.js';
import { canPickSpeaker, type Device, type DeviceKind, listDevices } from '../calls/media.js';
import type { PeerView } from '../calls/mesh.js';
import type { InCall } from '../store/calls.js';
import { Avatar } from './Avatar.js';
import { CallVideo } from './CallMedia.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icons.js';

/** The call you are in: a tile per person (picture or avatar, who speaks), its length and its controls. */
export function CallView() {
  const { t } = useTranslation();
  const inCall = useApp((state) => state.inCall);
  const me = useApp((state) => state.session.me) ?? '';
  const call = useApp((state) => (state.inCall === null ? undefined : state.calls[state.inCall.id]));
  const conversation = useConversation(inCall?.conv ?? '');
  const [settingsOpen, setSettingsOpen] = useState(false);
  if (inCall === null) return null;
  const name = conversation?.name ?? t('conversation.unknown');
  const unreachable = inCall.peers.filter((peer) => peer.link === 'unreachable').map((peer) => peer.user);
  const unverified = (reason: 'missing' | 'mismatch'): string =>
    [...new Set(inCall.unverified.filter((refused) => refused.reason === reason).map((refused) => refused.user))].join(', ');
  const controller = calls();
  const waiting = inCall.endpoint === null ? t('calls.connecting') : inCall.peers.length === 0 && call?.state !== 'active' ? t('calls.ringingOthers') : null;

  return (
    <section className="call-view" aria-label={t('calls.view', { name })}>
      <header className="call-header">
        <h2>{t('calls.title', { name })}</h2>
        <CallTimer since={inCall.joinedAt} />
      </header>
      {waiting !== null && (
        <p className="call-status" role="status">
          {waiting}
        </p>
      )}
      {unreachable.length > 0 && (
        <p className="call-status error" role="alert">
          {t('calls.unreachable', { names: unreachable.join(', ') })}
        </p>
      )}
      {(['mismatch', 'missing'] as const).map(
        (reason) =>
          unverified(reason) !== '' && (
            <p key={reason} className="call-status error" role="alert">
              {t(`calls.unverified.${reason}`, { names: unverified(reason) })}
            </p>
          ),
      )}
      {inCall.mediaError !== null && (
        <p className="call-status error" role="alert">
          {t(`calls.mediaError.${inCall.mediaError}`)}
        </p>
      )}
      <ul className="call-tiles" aria-label={t('calls.people')} data-count={inCall.peers.length + 1}>
        <SelfTile inCall={inCall} me={me} />
        {inCall.peers.map((peer) => (
          <PeerTile key={peer.endpoint} peer={peer} />
        ))}
      </ul>
      <div className="call-controls" role="toolbar" aria-label={t('calls.controls')}>
        <button
          type="button"
          className="call-control"
          aria-pressed={inCall.muted}
          aria-label={t('calls.mute')}
          title={inCall.muted ? t('calls.unmuteHint') : t('calls.mute')}
          data-off={inCall.muted}
          onClick={() => controller?.toggleMute()}
        >
          <Icon name={inCall.muted ? 'micOff' : 'mic'} size={20} />
        </button>
        <button
          type="button"
          className="call-control"
          aria-pressed={inCall.camera}
          data-off={!inCall.camera}
          aria-label={t('calls.camera')}
          title={t('calls.camera')}
          onClick={() => void controller?.toggleCamera()}
        >
          <Icon name={inCall.camera ? 'video' : 'videoOff'} size={20} />
        </button>
        <button
          type="button"
          className="call-control"
          data-active={inCall.sharing}
          aria-label={inCall.sharing ? t('calls.stopSharing') : t('calls.share')}
          title={inCall.sharing ? t('calls.stopSharing') : t('calls.share')}
          onClick={() => void controller?.toggleShare()}
        >
          <Icon name="screen" size={20} />
        </button>
        <button type="button" className="call-control" aria-label={t('calls.settings')} title={t('calls.settings')} onClick={() => setSettingsOpen(true)}>
          <Icon name="settings" size={20} />
        </button>
        <button type="button" className="call-control hang-up" aria-label={t('calls.hangUp')} title={t('calls.hangUp')} onClick={() => void controller?.hangUp()}>
          <Icon name="hangUp" size={20} />
        </button>
      </div>
      <CallSettings open={settingsOpen} inCall={inCall} onClose={() => setSettingsOpen(false)} />
    </section>
  );
}

/** Minutes and seconds since `since`, every second. */
function CallTimer({ since }: { since: number }) {
  const { t } = useTranslation();
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <span className="call-timer" role="timer" aria-label={t('calls.length')}>
      {formatDuration(now - since)}
    </span>
  );
}

function SelfTile({ inCall, me }: { inCall: InCall; me: string }) {
  const { t } = useTranslation();
  const states = [inCall.muted ? t('calls.isMuted') : null, inCall.sharing ? t('calls.isSharing') : null, inCall.speaking ? t('calls.isSpeaking') : null];
  return (
    <Tile
      label={[t('calls.you'), ...states].filter(Boolean).join(', ')}
      name={t('calls.you')}
      avatarName={me}
      stream={inCall.preview}
      mirrored={inCall.camera && !inCall.sharing}
      muted={inCall.muted}
      speaking={inCall.speaking}
      sharing={inCall.sharing}
    />
  );
}

function PeerTile({ peer }: { peer: PeerView }) {
  const { t } = useTranslation();
  const showsVideo = peer.media.camera || peer.media.sharing;
  const link = peer.link === 'connected' ? null : t(`calls.link.${peer.link}`);
  const states = [link, peer.media.muted ? t('calls.isMuted') : null, peer.media.sharing ? t('calls.isSharing') : null, peer.speaking ? t('calls.isSpeaking') : null];
  return (
    <Tile
      label={[peer.user, ...states].filter(Boolean).join(', ')}
      name={peer.user}
      avatarName={peer.user}
      stream={showsVideo ? peer.stream : null}
      mirrored={false}
      muted={peer.media.muted}
      speaking={peer.speaking}
      sharing={peer.media.sharing}
      note={link}
    />
  );
}

interface TileProps {
  /** What a screen reader hears for the tile: the name and its states. */
  label: string;
  name: string;
  avatarName: string;
  stream: MediaStream | null;
  mirrored: boolean;
  muted: boolean;
  speaking: boolean;
  sharing: boolean;
  note?: string | null;
}

function Tile({ label, name, avatarName, stream, mirrored, muted, speaking, sharing, note }: TileProps) {
  const { t } = useTranslation();
  return (
    <li className="call-tile" aria-label={label} data-speaking={speaking} data-sharing={sharing}>
      {stream !== null ? <CallVideo stream={stream} mirrored={mirrored} /> : <Avatar name={avatarName} size={64} />}
      <span className="call-tile-name" aria-hidden="true">
        {muted && <Icon name="micOff" size={14} />}
        {name}
        {sharing && <span className="call-tile-tag">{t('calls.sharingTag')}</span>}
      </span>
      {note && (
        <span className="call-tile-note" aria-hidden="true">
          {note}
        </span>
      )}
    </li>
  );
}

const KINDS: DeviceKind[] = ['audioinput', 'videoinput', 'audiooutput'];

/** Which microphone, camera and speaker the call uses. */
function CallSettings({ open, inCall, onClose }: { open: boolean; inCall: InCall; onClose(): void }) {
  const { t } = useTranslation();
  const id = useId();
  const [devices, setDevices] = useState<Record<DeviceKind, Device[]> | null>(null);
  useEffect(() => {
    if (!open) return;
    let live = true;
    void listDevices().then((lists) => live && setDevices(lists));
    return () => {
      live = false;
    };
  }, [open]);
  const kinds = canPickSpeaker() ? KINDS : KINDS.slice(0, 2);
  return (
    <Dialog title={t('calls.settings')} open={open} onClose={onClose}>
      <div className="dialog-form">
        {kinds.map((kind, index) => (
          <label key={kind} htmlFor={`${id}-${kind}`}>
            {t(`calls.device.${kind}`)}
            <select
              id={`${id}-${kind}`}
              data-autofocus={index === 0 ? true : undefined}
              value={inCall.devices[kind]}
              onChange={(event) => void calls()?.pickDevice(kind, event.target.value)}
            >
              <option value="">{t('calls.device.default')}</option>
              {(devices?.[kind] ?? []).map((device, number) => (
                <option key={device.id} value={device.id}>
                  {device.label || t('calls.device.unnamed', { number: number + 1 })}
                </option>
              ))}
            </select>
          </label>
        ))}
        <p className="hint">{t('calls.settingsHint')}</p>
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={onClose}>
            {t('calls.done')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
