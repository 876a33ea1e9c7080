import { useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { nameKey, sameName } from '../../src-shared/protocol/names.js';
import { mentionQuery } from '../lib/rich-text.js';
import { Avatar } from './Avatar.js';

/** At most this many names are offered at once; typing more letters narrows them. */
const MAX_SUGGESTIONS = 8;

interface MentionInput {
  text: string;
  caret: number;
  /** The conversation's people (you are left out of the offer). */
  people: readonly string[];
  me: string | null;
  /** Puts the chosen "@name " in place of what was typed and the caret after it. */
  replace(start: number, end: number, insert: string): void;
}

/**
 * Typing "@" in the composer offers the conversation's people: arrows move, Enter or Tab
 * takes one, Escape closes the list. The text box keeps the focus (aria-activedescendant).
 */
export function useMentionSuggest({ text, caret, people, me, replace }: MentionInput) {
  const { t } = useTranslation();
  const listId = useId();
  const [active, setActive] = useState(0);
  /** Where the "@" was when Escape closed the list: closed until another "@" is typed. */
  const [dismissed, setDismissed] = useState<number | null>(null);
  const query = mentionQuery(text, caret);
  // Once no "@word" is being typed, the next "@" offers names again.
  if (query === null && dismissed !== null) setDismissed(null);
  const options =
    query === null || query.start === dismissed
      ? []
      : people.filter((name) => !sameName(name, me) && nameKey(name).startsWith(nameKey(query.query))).slice(0, MAX_SUGGESTIONS);
  const open = options.length > 0;
  const current = Math.min(active, options.length - 1);
  const optionId = (index: number) => `${listId}-${index}`;

  const choose = (name: string) => {
    if (query === null) return;
    replace(query.start, caret, `@${name} `);
    setActive(0);
  };

  /** Handles the key when the list is open; true when it did. */
  const onKeyDown = (event: KeyboardEvent): boolean => {
    if (!open || event.nativeEvent.isComposing) return false;
    switch (event.key) {
      case 'ArrowDown':
        setActive((current + 1) % options.length);
        break;
      case 'ArrowUp':
        setActive((current - 1 + options.length) % options.length);
        break;
      case 'Enter':
      case 'Tab':
        choose(options[current]!);
        break;
      case 'Escape':
        setDismissed(query!.start);
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  };

  const inputProps = {
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? listId : undefined,
    'aria-activedescendant': open ? optionId(current) : undefined,
  };

  const list = open && (
    <ul id={listId} role="listbox" aria-label={t('mention.people')} className="mention-list">
      {options.map((name, index) => (
        <li
          key={name}
          id={optionId(index)}
          role="option"
          aria-selected={index === current}
          className="mention-option"
          // Keeps the focus in the text box.
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => choose(name)}
        >
          <Avatar name={name} size={22} />
          <span>{name}</span>
        </li>
      ))}
    </ul>
  );

  return { inputProps, list, onKeyDown };
}
