import { useEffect, useId, useRef, useState, type ClipboardEvent, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, JoinRequest, Result, SessionView, Settings } from '../../src-shared/api.js';
import { ACCESS_MODES } from '../../src-shared/protocol/limits.js';
import { app, useApp } from '../app-context.js';
import { type AccessChoice, differentRoom, hostAccess, joinPassphrase, splitAddress } from '../lib/access.js';
import { formError } from '../lib/errors.js';
import { FILE_LIMIT_FIELDS, type FileLimitField, type FileLimitTexts, readFileLimits, sizeText } from '../lib/sizes.js';
import { requestNotificationPermission } from '../desktop/notifications.js';
import { hostRoom, joinRoom, signOut } from '../store/sync.js';
import { EnterRoomError } from './SecurityInfo.js';
import { AnnounceField, RoomsNearby } from './RoomsNearby.js';
import { FileLimitsFields } from './FileLimitsFields.js';

type Mode = 'host' | 'join';

/** How often a join waiting for the host's approval asks again (docs/PROTOCOL.md §7.2.2: at most every 5 s). */
const APPROVAL_RETRY_MS = 5000;

export function StartScreen() {
  const { t } = useTranslation();
  const settings = useApp((state) => state.settings);
  const session = useApp((state) => state.session);
  // Until a tab is chosen here, the one this profile last entered a room with.
  const [chosen, setChosen] = useState<Mode | null>(null);
  const mode = chosen ?? settings?.lastMode ?? 'join';
  const setMode = setChosen;
  // The form last submitted here, else the one the last session was entered with:
  // why the last attempt or session ended belongs under that form only.
  const [submitted, setSubmitted] = useState<Mode | null>(null);
  const errorOwner = submitted ?? settings?.lastMode ?? null;
  const ids = { host: useId(), join: useId() };
  const sessionError = session.status === 'offline' && errorOwner === mode ? session.error : null;

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
        <RoomExitNote />
        <div role="tablist" aria-label={t('start.tabs')} className="tabs">
          {tab('host', t('start.hostTab'))}
          {tab('join', t('start.joinTab'))}
        </div>
        <div role="tabpanel" id={`${ids[mode]}-panel`} aria-labelledby={`${ids[mode]}-tab`}>
          {/* Keyed on the settings so the fields fill in once they arrive. */}
          {mode === 'host' ? (
            <HostForm key={settings ? 'filled' : 'empty'} settings={settings} sessionError={sessionError} onSubmit={() => setSubmitted('host')} />
          ) : (
            <RoomsNearby settings={settings}>
              <JoinForm key={settings ? 'filled' : 'empty'} settings={settings} sessionError={sessionError} onSubmit={() => setSubmitted('join')} />
            </RoomsNearby>
          )}
        </div>
      </div>
    </main>
  );
}

/** After leaving: the session is kept (with the way to forget it); after signing out: it is gone. */
function RoomExitNote() {
  const { t } = useTranslation();
  const exit = useApp((state) => state.exit);
  if (exit === null) return null;
  return (
    <div className="exit-note" role="status">
      <p>{t(exit.kind === 'left' ? 'account.left' : 'account.signedOut', { room: exit.room })}</p>
      {exit.kind === 'left' && (
        <button type="button" onClick={() => void signOut(app())}>
          {t('account.signOut')}
        </button>
      )}
    </div>
  );
}

interface FormProps {
  settings: Settings | null;
  sessionError: AppError | null;
  /** Called as the form is submitted, before its request runs. */
  onSubmit(): void;
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

  /** `quiet`: a retry in the background, which leaves the form and its message as they are meanwhile. */
  const submit = async (port: string, enter: (port: number) => Promise<Result<SessionView>>, quiet = false) => {
    const parsed = parsePort(port);
    if (parsed === null) {
      setError(formError(t('start.badPort')));
      return;
    }
    requestNotificationPermission();
    setTried(true);
    if (!quiet) {
      setError(null);
      setBusy(true);
    }
    const result = await enter(parsed);
    if (!quiet) setBusy(false);
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

function HostForm({ settings, sessionError, onSubmit }: FormProps) {
  const { t, i18n } = useTranslation();
  const [tls, setTls] = useState(true);
  const [announce, setAnnounce] = useState(true);
  const hintId = useId();
  // Left alone, a restarted room keeps the mode it had, so it never opens up by accident.
  const [access, setAccess] = useState<AccessChoice>('saved');
  const [passphrase, setPassphrase] = useState('');
  const saved = settings?.lastFileLimits ?? {};
  const [limitTexts, setLimitTexts] = useState(() =>
    Object.fromEntries(FILE_LIMIT_FIELDS.map((field) => [field, saved[field] === undefined ? '' : sizeText(saved[field], i18n.language)])) as FileLimitTexts,
  );
  // Open when the last room set limits of its own, so they are not applied unseen.
  const [limitsOpen, setLimitsOpen] = useState(Object.keys(saved).length > 0);
  const [badLimit, setBadLimit] = useState<FileLimitField | null>(null);
  const enter = async (roomName: string, port: number, name: string, password: string): Promise<Result<SessionView>> => {
    const limits = readFileLimits(limitTexts, i18n.language);
    setBadLimit(limits.ok ? null : limits.field);
    if (!limits.ok) {
      setLimitsOpen(true);
      return { ok: false, error: formError(t(`hostLimits.${limits.problem}`, { field: t(`hostLimits.${limits.field}`) })) };
    }
    const checked = hostAccess(access, passphrase);
    if (!checked.ok) return { ok: false, error: formError(t(`access.${checked.problem}`)) };
    return hostRoom(app(), { roomName, port, name, password, tls, announce, fileLimits: limits.limits, ...checked.fields });
  };
  return (
    <RoomForm
      placeLabel={t('start.roomName')}
      initialPlace={settings?.lastRoomName ?? ''}
      submitLabel={t('start.startHosting')}
      settings={settings}
      sessionError={sessionError}
      onSubmit={onSubmit}
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
      <AnnounceField checked={announce} onChange={setAnnounce} />
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
      <FileLimitsFields
        texts={limitTexts}
        onChange={(field, text) => setLimitTexts((texts) => ({ ...texts, [field]: text }))}
        open={limitsOpen}
        onToggle={setLimitsOpen}
        invalid={badLimit}
      />
    </RoomForm>
  );
}

function JoinForm({ settings, sessionError, onSubmit }: FormProps) {
  const { t } = useTranslation();
  const [passphrase, setPassphrase] = useState('');
  return (
    <RoomForm
      placeLabel={t('start.host')}
      initialPlace={settings?.lastHost ?? ''}
      submitLabel={t('start.join')}
      settings={settings}
      sessionError={sessionError}
      onSubmit={onSubmit}
      splitsAddress
      enter={(host, port, name, password, trust, alternates) =>
        joinRoom(app(), { host, port, ...(alternates.length > 0 ? { alternates } : {}), name, password, ...joinPassphrase(passphrase), ...trust })
      }
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
  /**
   * `trust`: what the user allowed after a join was refused for security; `alternates`: the room's other
   * addresses when the first field lists several (joining only).
   */
  enter: (place: string, port: number, name: string, password: string, trust: Trust, alternates: Address[]) => Promise<Result<SessionView>>;
  /** Fields only one of the forms has, shown after the password. */
  children?: ReactNode;
  /**
   * The first field takes a pasted "host:port" or "[v6]:port" (from the host's "Copy address") apart,
   * and may list a room's several addresses separated by commas.
   */
  splitsAddress?: boolean;
}

type Trust = Pick<JoinRequest, 'acceptFingerprint' | 'allowUnencrypted' | 'create' | 'differentRoom'>;
type Address = { host: string; port: number };

/** Host and Join ask for the same things but the first field, and differ only in what they do with them. */
function RoomForm(props: RoomFormProps) {
  const { placeLabel, initialPlace, submitLabel, enter, settings, sessionError, children, splitsAddress = false } = props;
  const { t } = useTranslation();
  const placeHintId = useId();
  const [place, setPlace] = useState(initialPlace);
  const [port, setPort] = useState(settings ? String(settings.lastPort) : '');
  const [name, setName] = useState(settings?.lastName ?? '');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useEnterRoom(sessionError);

  /** Fills host and port from one "host:port" text; null when the text is no such address. */
  const takeAddress = (text: string) => {
    const address = splitsAddress ? splitAddress(text.trim()) : null;
    if (address !== null) {
      setPlace(address.host);
      setPort(String(address.port));
    }
    return address;
  };
  const onPaste = (event: ClipboardEvent<HTMLInputElement>) => {
    // Only a paste that replaces the whole field: pasting into the middle of a name is just text.
    const whole = event.currentTarget.selectionStart === 0 && event.currentTarget.selectionEnd === event.currentTarget.value.length;
    if (whole && takeAddress(event.clipboardData.getData('text')) !== null) event.preventDefault();
  };

  const lastTrust = useRef<Trust | null>(null);
  const enterWith = (trust: Trust) => {
    lastTrust.current = trust;
    props.onSubmit();
    // A typed "host:port" counts the same as a pasted one; in a list, an address without a port has the Port field's.
    const [first = '', ...others] = splitsAddress ? place.split(',').map((part) => part.trim()) : [place];
    const address = others.length === 0 ? takeAddress(first) : splitAddress(first);
    const host = address?.host ?? first.trim();
    const alternates = (parsed: number) => others.filter((other) => other !== '').map((other) => splitAddress(other) ?? { host: other, port: parsed });
    void submit(address ? String(address.port) : port, (parsed) => enter(host, parsed, name.trim(), password, trust, alternates(parsed)), trust.create === false);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    enterWith({});
  };

  // The host does not say when it approves an account: ask again now and then, never creating
  // the account anew (it may have been rejected), until the answer is something else.
  useEffect(() => {
    const trust = lastTrust.current;
    if (error?.code !== 'PENDING_APPROVAL' || trust === null) return;
    const timer = setTimeout(() => enterWith({ ...trust, create: false }), APPROVAL_RETRY_MS);
    return () => clearTimeout(timer);
    // Each answer is a new error object: one retry per answer.
  }, [error]);

  return (
    <form className="start-form" onSubmit={onSubmit} aria-busy={busy}>
      <div className="field">
        <label>
          {placeLabel}
          <input
            value={place}
            onChange={(event) => setPlace(event.target.value)}
            onPaste={onPaste}
            aria-describedby={splitsAddress ? placeHintId : undefined}
            required
          />
        </label>
        {splitsAddress && (
          <p id={placeHintId} className="hint">
            {t('start.hostHint')}
          </p>
        )}
      </div>
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
        onDifferentRoom={(presented) => enterWith(differentRoom(presented))}
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
