import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, JoinRequest, NearbyRoom, Settings } from '../../src-shared/api.js';
import { app } from '../app-context.js';
import { differentRoom, joinPassphrase } from '../lib/access.js';
import { joinRoom } from '../store/sync.js';
import { EnterRoomError, FingerprintWithCopy } from './SecurityInfo.js';

const ACCESS_LABELS = {
  open: 'nearby.accessOpen',
  passphrase: 'nearby.accessPassphrase',
  approval: 'nearby.accessApproval',
} as const;

/**
 * "Rooms on your network": the rooms announced on the LAN, kept live by the core's
 * nearbyRooms events. Choosing one puts a short join form for it in place of
 * `children` (the form for typing an address); what the room announced is only a
 * claim, so its fingerprint goes with the join to be checked.
 */
export function RoomsNearby({ settings, children }: { settings: Settings | null; children: ReactNode }) {
  const { t } = useTranslation();
  const headingId = useId();
  const [rooms, setRooms] = useState<NearbyRoom[]>([]);
  const [problem, setProblem] = useState<AppError | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);

  useEffect(() => {
    const { api } = app();
    let live = true;
    const stop = api.onEvent((event) => {
      if (event.type === 'nearbyRooms') setRooms(event.rooms);
    });
    void api.nearbyRooms().then((result) => {
      if (!live) return;
      if (result.ok) setRooms(result.value);
      else setProblem(result.error);
    });
    return () => {
      live = false;
      stop();
    };
  }, []);

  const room = rooms.find((candidate) => candidate.id === chosen);
  return (
    <>
      <section className="rooms-nearby" aria-labelledby={headingId}>
        <h2 id={headingId}>{t('nearby.title')}</h2>
        {problem ? (
          // The reason (which setting turned it off, what failed) is the host machine's detail: a tooltip.
          <p className="hint" title={problem.message}>
            {t('nearby.off')}
          </p>
        ) : rooms.length === 0 ? (
          <p className="hint" role="status">
            {t('nearby.searching')}
          </p>
        ) : (
          <ul className="nearby-list">
            {rooms.map((candidate) => (
              <li key={candidate.id}>
                <button
                  type="button"
                  className="nearby-room"
                  aria-pressed={candidate.id === chosen}
                  onClick={() => setChosen(candidate.id === chosen ? null : candidate.id)}
                >
                  <strong>{candidate.roomName}</strong>
                  <span className="hint">
                    {t('nearby.where', { host: candidate.hostName, address: `${candidate.host}:${candidate.port}` })}
                  </span>
                  <span className="hint">
                    {candidate.tls ? t('security.encrypted') : t('security.notEncrypted')} · {t(ACCESS_LABELS[candidate.access])}
                    {candidate.fingerprint !== null && <> · {t('nearby.shortFingerprint', { fingerprint: shortFingerprint(candidate.fingerprint) })}</>}
                  </span>
                  {candidate.identity === 'known' && <span className="nearby-known">{t('nearby.known')}</span>}
                  {candidate.identity === 'lookalike' && <span className="nearby-lookalike">{t('nearby.lookalike', { room: candidate.roomName })}</span>}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {room ? (
        <>
          <NearbyJoinForm key={room.id} room={room} settings={settings} />
          <button type="button" className="link-button" onClick={() => setChosen(null)}>
            {t('nearby.typeAddress')}
          </button>
        </>
      ) : (
        children
      )}
    </>
  );
}

/** The first bytes of a fingerprint, enough to tell rooms in one list apart at a glance; the join form shows it whole. */
function shortFingerprint(fingerprint: string): string {
  return `${fingerprint.split(':').slice(0, 4).join(':')}…`;
}

type Trust = Pick<JoinRequest, 'acceptFingerprint' | 'allowUnencrypted' | 'differentRoom'>;

function NearbyJoinForm({ room, settings }: { room: NearbyRoom; settings: Settings | null }) {
  const { t } = useTranslation();
  const [name, setName] = useState(settings?.lastName ?? '');
  const [password, setPassword] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const join = async (trust: Trust) => {
    setBusy(true);
    setError(null);
    const result = await joinRoom(app(), {
      host: room.host,
      port: room.port,
      name: name.trim(),
      password,
      ...(room.fingerprint !== null ? { announcedFingerprint: room.fingerprint } : {}),
      announcedRoomName: room.roomName,
      ...(room.access === 'passphrase' ? joinPassphrase(passphrase) : {}),
      ...trust,
    });
    setBusy(false);
    if (!result.ok) setError(result.error);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void join({});
  };

  return (
    <form className="start-form nearby-join" aria-label={t('nearby.joinForm', { room: room.roomName })} onSubmit={onSubmit} aria-busy={busy}>
      {room.fingerprint !== null && (
        <div className="hint announced-fingerprint">
          <p>{t('nearby.announcedFingerprint')}</p>
          <FingerprintWithCopy value={room.fingerprint} />
        </div>
      )}
      <label>
        {t('start.yourName')}
        <input value={name} onChange={(event) => setName(event.target.value)} autoComplete="username" required />
      </label>
      <label>
        {t('start.password')}
        <input type="password" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="current-password" />
      </label>
      {room.access === 'passphrase' && (
        <label>
          {t('access.passphrase')}
          <input type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} autoComplete="off" />
        </label>
      )}
      <EnterRoomError
        error={error}
        onTrust={(fingerprint) => void join({ acceptFingerprint: fingerprint })}
        onJoinUnencrypted={() => void join({ allowUnencrypted: true })}
        onDifferentRoom={(presented) => void join(differentRoom(presented))}
      />
      <button type="submit" className="primary" disabled={busy}>
        {t('nearby.join', { room: room.roomName })}
      </button>
    </form>
  );
}

/** The Host form's choice to announce the room on the network. */
export function AnnounceField({ checked, onChange }: { checked: boolean; onChange(checked: boolean): void }) {
  const { t } = useTranslation();
  return (
    <label className="checkbox">
      <input type="checkbox" checked={checked} onChange={(event) => onChange(event.target.checked)} />
      {t('nearby.announce')}
    </label>
  );
}
