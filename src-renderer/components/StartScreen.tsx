import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, JoinRequest, Result, SessionView, Settings } from '../../src-shared/api.js';
import { ACCESS_MODES } from '../../src-shared/protocol/limits.js';
import { app, useApp } from '../app-context.js';
import { type AccessChoice, hostAccess, joinPassphrase } from '../lib/access.js';
import { requestNotificationPermission } from '../desktop/notifications.js';
import { hostRoom, joinRoom } from '../store/sync.js';
import { EnterRoomError } from './SecurityInfo.js';

type Mode = 'host' | 'join';

export function StartScreen() {
  const { t } = useTranslation();
  const [mode, setMode] = useState<Mode>('host');
  const settings = useApp((state) => state.settings);
  const session = useApp((state) => state.session);
  const ids = { host: useId(), join: useId() };
  // Why the last session ended (e.g. the host went away), until the next attempt.
  const sessionError = session.status === 'offline' ? session.error : null;

  const tab = (value: Mode, label: string) => (
    <button
      type="button"
      role="tab"
      id={`${ids[value]}-tab`}
      aria-selected={mode === value}
      aria-controls={`${ids[value]}-panel`}
      tabIndex={mode === value ? 0 : -1}
      onClick={() => setMode(value)}
      onKeyDown={(event) => {
        if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') setMode(mode === 'host' ? 'join' : 'host');
      }}
    >
      {label}
    </button>
  );

  return (
    <main className="start-screen">
      <div className="start-card">
        <h1>{t('appName')}</h1>
        <p className="intro">{t('start.intro')}</p>
        <div role="tablist" aria-label={t('start.tabs')} className="tabs">
          {tab('host', t('start.hostTab'))}
          {tab('join', t('start.joinTab'))}
        </div>
        <div role="tabpanel" id={`${ids[mode]}-panel`} aria-labelledby={`${ids[mode]}-tab`}>
          {/* Keyed on the settings so the fields fill in once they arrive. */}
          {mode === 'host' ? (
            <HostForm key={settings ? 'filled' : 'empty'} settings={settings} sessionError={sessionError} />
          ) : (
            <JoinForm key={settings ? 'filled' : 'empty'} settings={settings} sessionError={sessionError} />
          )}
        </div>
      </div>
    </main>
  );
}

interface FormProps {
  settings: Settings | null;
  sessionError: AppError | null;
}

function parsePort(text: string): number | null {
  const port = Number(text.trim());
  return /^\d{1,5}$/.test(text.trim()) && port <= 65535 ? port : null;
}

/** Runs a host or join request, tracking whether it is under way and its error. */
function useEnterRoom(sessionError: AppError | null) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [tried, setTried] = useState(false);

  const submit = async (port: string, enter: (port: number) => Promise<Result<SessionView>>) => {
    const parsed = parsePort(port);
    if (parsed === null) {
      setError({ code: 'INVALID_ARGUMENT', message: t('start.badPort') });
      return;
    }
    requestNotificationPermission();
    setTried(true);
    setError(null);
    setBusy(true);
    const result = await enter(parsed);
    setBusy(false);
    if (!result.ok) setError(result.error);
  };
  return { busy, error: error ?? (tried ? null : sessionError), submit };
}

const MODE_LABELS = {
  saved: 'access.modeSaved',
  open: 'access.modeOpen',
  passphrase: 'access.modePassphrase',
  approval: 'access.modeApproval',
} as const;

function HostForm({ settings, sessionError }: FormProps) {
  const { t } = useTranslation();
  const [tls, setTls] = useState(true);
  const hintId = useId();
  // Left alone, a restarted room keeps the mode it had, so it never opens up by accident.
  const [access, setAccess] = useState<AccessChoice>('saved');
  const [passphrase, setPassphrase] = useState('');
  const enter = async (roomName: string, port: number, name: string, password: string): Promise<Result<SessionView>> => {
    const checked = hostAccess(access, passphrase);
    if (!checked.ok) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: t(`access.${checked.problem}`) } };
    return hostRoom(app(), { roomName, port, name, password, tls, ...checked.fields });
  };
  return (
    <RoomForm
      placeLabel={t('start.roomName')}
      initialPlace={settings?.lastRoomName ?? ''}
      submitLabel={t('start.startHosting')}
      settings={settings}
      sessionError={sessionError}
      enter={enter}
    >
      <div className="field">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={tls}
            onChange={(event) => setTls(event.target.checked)}
            aria-describedby={tls ? undefined : hintId}
          />
          {t('security.hostTls')}
        </label>
        {!tls && (
          <p id={hintId} className="hint warning">
            {t('security.hostTlsOff')}
          </p>
        )}
      </div>
      <label>
        {t('access.whoCanJoin')}
        <select value={access} onChange={(event) => setAccess(event.target.value as AccessChoice)}>
          {(['saved', ...ACCESS_MODES] as const).map((mode) => (
            <option key={mode} value={mode}>
              {t(MODE_LABELS[mode])}
            </option>
          ))}
        </select>
      </label>
      {access === 'passphrase' && (
        <label>
          {t('access.passphrase')}
          <input type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} autoComplete="new-password" required />
        </label>
      )}
    </RoomForm>
  );
}

function JoinForm({ settings, sessionError }: FormProps) {
  const { t } = useTranslation();
  const [passphrase, setPassphrase] = useState('');
  return (
    <RoomForm
      placeLabel={t('start.host')}
      initialPlace={settings?.lastHost ?? ''}
      submitLabel={t('start.join')}
      settings={settings}
      sessionError={sessionError}
      enter={(host, port, name, password, trust) => joinRoom(app(), { host, port, name, password, ...joinPassphrase(passphrase), ...trust })}
    >
      <SecretField
        label={t('access.passphrase')}
        hint={t('access.joinPassphraseHint')}
        autoComplete="off"
        value={passphrase}
        onChange={setPassphrase}
      />
    </RoomForm>
  );
}

interface RoomFormProps extends FormProps {
  /** The first field: the room's name when hosting, the host's address when joining. */
  placeLabel: string;
  initialPlace: string;
  submitLabel: string;
  /** `trust`: what the user allowed after a join was refused for security (joining only). */
  enter: (place: string, port: number, name: string, password: string, trust: Trust) => Promise<Result<SessionView>>;
  /** Fields only one of the forms has, shown after the password. */
  children?: ReactNode;
}

type Trust = Pick<JoinRequest, 'acceptFingerprint' | 'allowUnencrypted'>;

/** Host and Join ask for the same things but the first field, and differ only in what they do with them. */
function RoomForm({ placeLabel, initialPlace, submitLabel, enter, settings, sessionError, children }: RoomFormProps) {
  const { t } = useTranslation();
  const [place, setPlace] = useState(initialPlace);
  const [port, setPort] = useState(settings ? String(settings.lastPort) : '');
  const [name, setName] = useState(settings?.lastName ?? '');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useEnterRoom(sessionError);

  const enterWith = (trust: Trust) => void submit(port, (parsed) => enter(place.trim(), parsed, name.trim(), password, trust));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    enterWith({});
  };

  return (
    <form className="start-form" onSubmit={onSubmit} aria-busy={busy}>
      <label>
        {placeLabel}
        <input value={place} onChange={(event) => setPlace(event.target.value)} required />
      </label>
      <PortField value={port} onChange={setPort} />
      <label>
        {t('start.yourName')}
        <input value={name} onChange={(event) => setName(event.target.value)} autoComplete="username" required />
      </label>
      <SecretField
        label={t('start.password')}
        hint={t('start.passwordHint')}
        autoComplete="current-password"
        value={password}
        onChange={setPassword}
      />
      {children}
      <EnterRoomError
        error={error}
        onTrust={(fingerprint) => enterWith({ acceptFingerprint: fingerprint })}
        onJoinUnencrypted={() => enterWith({ allowUnencrypted: true })}
      />
      <button type="submit" className="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

interface FieldProps {
  value: string;
  onChange(value: string): void;
}

/** A text field rather than type=number, which would be a spin button and accept "1e3". */
function PortField({ value, onChange }: FieldProps) {
  const { t } = useTranslation();
  return (
    <label>
      {t('start.port')}
      <input value={value} onChange={(event) => onChange(event.target.value)} inputMode="numeric" required />
    </label>
  );
}

/** A password-like field with a hint below it. */
function SecretField({ label, hint, autoComplete, value, onChange }: FieldProps & { label: string; hint: string; autoComplete: string }) {
  const hintId = useId();
  return (
    <div className="field">
      <label>
        {label}
        <input
          type="password"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          autoComplete={autoComplete}
          aria-describedby={hintId}
        />
      </label>
      <p id={hintId} className="hint">
        {hint}
      </p>
    </div>
  );
}
