import { useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, Result } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { otherUsers } from '../store/selectors.js';
import { createGroup, startDirectChat } from '../store/sync.js';
import { Dialog } from './Dialog.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';
import { MenuButton } from './MenuButton.js';

type Choice = 'direct' | 'group';

/** The sidebar's "+": a small menu of what can be started, each opening its dialog. */
export function NewChatMenu() {
  const { t } = useTranslation();
  const [dialog, setDialog] = useState<Choice | null>(null);

  return (
    <>
      <MenuButton
        label={t('layout.newChat')}
        className="icon-button new-chat-button"
        items={[
          { label: t('directChat.title'), onSelect: () => setDialog('direct') },
          { label: t('groups.new'), onSelect: () => setDialog('group') },
        ]}
      >
        <Icon name="plus" />
      </MenuButton>
      <NameDialog
        open={dialog === 'direct'}
        onClose={() => setDialog(null)}
        title={t('directChat.title')}
        field={t('directChat.userName')}
        hint={t('directChat.hint')}
        button={t('directChat.start')}
        suggest
        onSubmit={(name) => startDirectChat(app(), name)}
      />
      <Dialog title={t('groups.new')} open={dialog === 'group'} onClose={() => setDialog(null)}>
        <NewGroupForm onDone={() => setDialog(null)} />
      </Dialog>
    </>
  );
}

/** A group's name and the people to invite to it at once. */
function NewGroupForm({ onDone }: { onDone(): void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [person, setPerson] = useState('');
  const [invitees, setInvitees] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const listId = useId();
  const hintId = useId();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const names = useMemo(() => otherUsers(users, me).map((user) => user.name), [users, me]);

  const addPerson = () => {
    const trimmed = person.trim();
    if (trimmed === '') return;
    if (!invitees.some((invitee) => sameName(invitee, trimmed))) setInvitees([...invitees, trimmed]);
    setPerson('');
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '' || busy) return;
    setBusy(true);
    // A name typed and not yet added is meant to be invited too.
    const pending = person.trim();
    const all = pending === '' || invitees.some((invitee) => sameName(invitee, pending)) ? invitees : [...invitees, pending];
    const result = await createGroup(app(), name.trim(), all);
    setBusy(false);
    if (result.ok) onDone();
    else setError(result.error);
  };

  return (
    <form className="dialog-form" aria-label={t('groups.new')} onSubmit={(event) => void submit(event)}>
      <label>
        <span>{t('groups.name')}</span>
        <input
          value={name}
          data-autofocus
          autoComplete="off"
          onChange={(event) => {
            setName(event.target.value);
            setError(null);
          }}
        />
      </label>
      <div className="invite-row">
        <label>
          <span>{t('groups.inviteName')}</span>
          <input
            value={person}
            autoComplete="off"
            list={listId}
            aria-describedby={hintId}
            onChange={(event) => {
              setPerson(event.target.value);
              setError(null);
            }}
            onKeyDown={(event) => {
              if (event.key !== 'Enter' || person.trim() === '') return;
              event.preventDefault();
              addPerson();
            }}
          />
        </label>
        <button type="button" onClick={addPerson} disabled={person.trim() === ''}>
          {t('groups.invite')}
        </button>
      </div>
      <datalist id={listId}>
        {names.map((option) => (
          <option key={option} value={option} />
        ))}
      </datalist>
      {invitees.length > 0 && (
        <ul className="invitees" aria-label={t('groups.toInvite')}>
          {invitees.map((invitee) => (
            <li key={invitee}>
              {invitee}
              <button
                type="button"
                className="icon-button small"
                aria-label={t('groups.dontInvite', { name: invitee })}
                title={t('groups.dontInvite', { name: invitee })}
                onClick={() => setInvitees(invitees.filter((other) => other !== invitee))}
              >
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <p id={hintId} className="hint">
        {t('groups.hint')} {t('groups.inviteHint')}
      </p>
      <ErrorAlert error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onDone}>
          {t('layout.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy || name.trim() === ''}>
          {t('groups.create')}
        </button>
      </div>
    </form>
  );
}

interface NameDialogProps {
  open: boolean;
  onClose(): void;
  title: string;
  field: string;
  hint: string;
  button: string;
  /** Offer the room's users as completions. */
  suggest: boolean;
  onSubmit(name: string): Promise<Result<unknown>>;
}

/** A dialog asking for one name; closes when the action succeeds, shows its error otherwise. */
export function NameDialog({ open, onClose, title, field, hint, button, suggest, onSubmit }: NameDialogProps) {
  return (
    <Dialog title={title} open={open} onClose={onClose}>
      <NameForm title={title} field={field} hint={hint} button={button} suggest={suggest} onSubmit={onSubmit} onDone={onClose} />
    </Dialog>
  );
}

function NameForm({ title, field, hint, button, suggest, onSubmit, onDone }: Omit<NameDialogProps, 'open' | 'onClose'> & { onDone(): void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const listId = useId();
  const hintId = useId();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const names = useMemo(() => (suggest ? otherUsers(users, me).map((user) => user.name) : []), [suggest, users, me]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (trimmed === '' || busy) return;
    setBusy(true);
    const result = await onSubmit(trimmed);
    setBusy(false);
    if (result.ok) onDone();
    else setError(result.error);
  };

  return (
    <form className="dialog-form" aria-label={title} onSubmit={(event) => void submit(event)}>
      <label>
        <span>{field}</span>
        <input
          value={value}
          data-autofocus
          autoComplete="off"
          list={suggest ? listId : undefined}
          aria-describedby={hintId}
          onChange={(event) => {
            setValue(event.target.value);
            setError(null);
          }}
        />
      </label>
      {suggest && (
        <datalist id={listId}>
          {names.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      )}
      <p id={hintId} className="hint">
        {hint}
      </p>
      <ErrorAlert error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onDone}>
          {t('layout.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy || value.trim() === ''}>
          {button}
        </button>
      </div>
    </form>
  );
}
