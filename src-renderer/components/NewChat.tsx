import { type FormEvent, memo, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, Result } from '../../src-shared/api.js';
import { app } from '../app-context.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { createGroup } from '../store/group-actions.js';
import { startDirectChat } from '../store/sync.js';
import { Dialog } from './Dialog.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';
import { MenuButton } from './MenuButton.js';
import { PeoplePicker } from './PeoplePicker.js';

type Choice = 'direct' | 'group';

/** The sidebar's "+": a small menu of what can be started, each opening its dialog. */
export const NewChatMenu = memo(function NewChatMenu() {
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
      <PersonDialog
        open={dialog === 'direct'}
        onClose={() => setDialog(null)}
        title={t('directChat.title')}
        field={t('directChat.userName')}
        hint={t('directChat.hint')}
        button={t('directChat.start')}
        onSubmit={(name) => startDirectChat(app(), name)}
      />
      <Dialog title={t('groups.new')} open={dialog === 'group'} onClose={() => setDialog(null)}>
        <NewGroupForm onDone={() => setDialog(null)} />
      </Dialog>
    </>
  );
});

/** A group's name and the people to invite to it at once. */
function NewGroupForm({ onDone }: { onDone(): void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [person, setPerson] = useState('');
  const [invitees, setInvitees] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const hintId = useId();
  const addPerson = (name = person) => {
    const trimmed = name.trim();
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
      <PeoplePicker
        label={t('groups.inviteName')}
        value={person}
        exclude={invitees}
        describedBy={hintId}
        onChange={(value) => {
          setPerson(value);
          setError(null);
        }}
        onPick={(picked) => addPerson(picked)}
        action={
          <button type="button" onClick={() => addPerson()} disabled={person.trim() === ''}>
            {t('groups.invite')}
          </button>
        }
      />
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
  onSubmit(name: string): Promise<Result<unknown>>;
}

/** A dialog asking for one name; closes when the action succeeds, shows its error otherwise. */
export function NameDialog({ open, onClose, ...form }: NameDialogProps) {
  return (
    <Dialog title={form.title} open={open} onClose={onClose}>
      <NameForm {...form} people={null} onDone={onClose} />
    </Dialog>
  );
}

/**
 * A dialog asking for a person of the room: the people picker offers them as the name is typed, and
 * choosing one acts at once (the button acts on a name typed whole).
 */
export function PersonDialog({ open, onClose, exclude = NOBODY, ...form }: NameDialogProps & { exclude?: readonly string[] }) {
  return (
    <Dialog title={form.title} open={open} onClose={onClose}>
      <NameForm {...form} people={exclude} onDone={onClose} />
    </Dialog>
  );
}

const NOBODY: readonly string[] = [];

type NameFormProps = Omit<NameDialogProps, 'open' | 'onClose'> & {
  /** Offer the room's people but these; null for a name that is not a person's. */
  people: readonly string[] | null;
  onDone(): void;
};

function NameForm({ title, field, hint, button, people, onSubmit, onDone }: NameFormProps) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const hintId = useId();

  const run = async (name: string) => {
    const trimmed = name.trim();
    if (trimmed === '' || busy) return;
    setBusy(true);
    const result = await onSubmit(trimmed);
    setBusy(false);
    if (result.ok) onDone();
    else setError(result.error);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(value);
  };
  const change = (next: string) => {
    setValue(next);
    setError(null);
  };

  return (
    <form className="dialog-form" aria-label={title} onSubmit={submit}>
      {people === null ? (
        <label>
          <span>{field}</span>
          <input value={value} data-autofocus autoComplete="off" aria-describedby={hintId} onChange={(event) => change(event.target.value)} />
        </label>
      ) : (
        <PeoplePicker
          label={field}
          value={value}
          exclude={people}
          describedBy={hintId}
          autoFocus
          onChange={change}
          onPick={(name) => {
            setValue(name);
            void run(name);
          }}
        />
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
