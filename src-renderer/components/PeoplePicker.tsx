import { useId, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { sameName } from '../../src-shared/protocol/names.js';
import { useApp } from '../app-context.js';
import { indexPeople, matchPeople } from '../lib/people.js';
import { otherUsers } from '../store/selectors.js';
import { Avatar } from './Avatar.js';
import { Presence } from './Presence.js';

/** At most this many people are offered at once; typing more of a name narrows them. */
const MAX_SHOWN = 8;

const NOBODY: readonly string[] = [];

interface PeoplePickerProps {
  /** The field's label. */
  label: string;
  value: string;
  onChange(value: string): void;
  /** A person was chosen from the list (Enter or a click). */
  onPick(name: string): void;
  /** Names not offered (those invited already, a group's members); you are never offered. */
  exclude?: readonly string[];
  /** Ids of what describes the field (a hint). */
  describedBy?: string;
  autoFocus?: boolean;
  /** Shown beside the field (a group's Invite button). */
  action?: ReactNode;
}

/**
 * A text field that offers the room's people as you type part of a name (any case, Turkish İ/ı
 * and accents folded), with their avatars and whether they are online: a combobox whose
 * listbox the arrows move through, Enter takes from and Escape closes. The focus stays in the field.
 */
export function PeoplePicker({ label, value, onChange, onPick, exclude = NOBODY, describedBy, autoFocus, action }: PeoplePickerProps) {
  const { t } = useTranslation();
  const inputId = useId();
  const listId = useId();
  const statusId = useId();
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const index = useMemo(
    () => indexPeople(otherUsers(users, me).filter((user) => !exclude.some((name) => sameName(name, user.name)))),
    [users, me, exclude],
  );
  const { shown, more } = useMemo(() => matchPeople(index, value, MAX_SHOWN), [index, value]);
  // Opened by typing or the arrows: an empty field shows no list, and Escape there closes the dialog.
  const [open, setOpen] = useState(false);
  /** The option the arrows are on; with text typed, the first is taken by Enter unless the arrows moved. */
  const [active, setActive] = useState<number | null>(null);
  const typed = value.trim() !== '';
  const listed = open && shown.length > 0;
  const current = !listed ? -1 : active === null ? (typed ? 0 : -1) : Math.min(active, shown.length - 1);
  const optionId = (at: number) => `${listId}-${at}`;

  const pick = (name: string) => {
    setActive(null);
    onPick(name);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.nativeEvent.isComposing) return;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        if (!listed) {
          setOpen(true);
          setActive(0);
        } else {
          const step = event.key === 'ArrowDown' ? 1 : -1;
          setActive((Math.max(current, step > 0 ? -1 : 0) + step + shown.length) % shown.length);
        }
        break;
      }
      case 'Enter':
        if (current < 0) return;
        pick(shown[current]!.name);
        break;
      case 'Escape':
        // The first Escape closes the list; the next one reaches the dialog.
        if (!listed) return;
        setOpen(false);
        event.stopPropagation();
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  return (
    <div className="people-picker">
      <label htmlFor={inputId}>{label}</label>
      <div className="people-field">
        <input
          id={inputId}
          value={value}
          role="combobox"
          autoComplete="off"
          spellCheck={false}
          data-autofocus={autoFocus ? true : undefined}
          aria-expanded={listed}
          aria-autocomplete="list"
          aria-controls={listed ? listId : undefined}
          aria-activedescendant={current >= 0 ? optionId(current) : undefined}
          aria-describedby={[statusId, describedBy].filter(Boolean).join(' ')}
          onChange={(event) => {
            onChange(event.target.value);
            setOpen(true);
            setActive(null);
          }}
          onKeyDown={onKeyDown}
        />
        {action}
      </div>
      {listed && (
        <ul id={listId} role="listbox" aria-label={t('picker.people')} className="people-list">
          {shown.map((user, at) => (
            <li
              key={user.name}
              id={optionId(at)}
              role="option"
              aria-selected={at === current}
              className="people-option"
              // Keeps the focus in the field.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => pick(user.name)}
            >
              <Avatar name={user.name} size={28} online={user.online} />
              <span className="people-name">{user.name}</span>
              <span className="people-presence">
                <Presence user={user} />
              </span>
            </li>
          ))}
        </ul>
      )}
      <p id={statusId} className={typed && shown.length === 0 ? 'people-none' : 'people-more'} role="status">
        {typed && shown.length === 0
          ? t('picker.noMatch', { query: value.trim() })
          : listed && more > 0
            ? t('picker.more', { count: more })
            : ''}
      </p>
    </div>
  );
}
