import { useCallback, useEffect, useId, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { type ConversationKey, replySnippet } from '../../src-shared/protocol/conversation.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { formatMoment } from '../lib/time.js';
import { sendAttached } from '../store/file-actions.js';
import { editMessage, offers } from '../store/sync.js';
import { AttachedFiles } from './AttachedFiles.js';
import { EmojiPopover } from './EmojiPopover.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';
import { useMentionSuggest } from './MentionSuggest.js';
import { Uploads } from './Uploads.js';
import { useFileErrorText } from './use-file-error-text.js';

const NO_FILES: File[] = [];

/** The counter shows once this few characters are left, before the limit is reached. */
const COUNTER_FROM = 500;

interface ComposerProps {
  conv: ConversationKey;
  /** Null while the conversation's recipient is not known yet. */
  target: Target | null;
  /** The other side declined: nothing can be sent. */
  blocked: boolean;
  /** Whom "@" offers. */
  people: readonly string[];
}

export function Composer({ conv, target, blocked, people }: ComposerProps) {
  const { t, i18n } = useTranslation();
  const fileErrorText = useFileErrorText();
  const me = useApp((state) => state.session.me);
  const composeState = useApp((state) => state.compose);
  const setCompose = useApp((state) => state.setCompose);
  // A reply or edit begun in another conversation does not follow you here.
  const compose = composeState?.message.conv === conv ? composeState : null;
  /** What was typed before an edit began, given back when it ends. */
  const draft = useRef('');
  // What was typed here before another conversation was opened comes back.
  const [text, setText] = useState(() => app().store.getState().drafts[conv] ?? '');
  const typed = useRef(text);
  const [caret, setCaret] = useState(0);
  const [emojiOpen, setEmojiOpen] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const filePicker = useRef<HTMLInputElement>(null);
  const attached = useApp((state) => state.attaching[conv] ?? NO_FILES);
  const attach = useApp((state) => state.attach);
  const unattach = useApp((state) => state.unattach);
  const clearAttached = useApp((state) => state.clearAttached);
  const emojiButton = useRef<HTMLButtonElement>(null);
  const [error, setError] = useState<AppError | null>(null);
  // The host tells the app when a mute begins and ends; the composer follows without a timer of its own.
  const muted = useApp((state) => state.session.muted);
  const counterId = useId();
  const mutedId = useId();
  const disabled = target === null || blocked || muted !== undefined;
  // The host counts UTF-16 code units, as String.length does.
  const left = LIMITS.maxTextLength - text.length;
  const tooLong = left < 0;

  const editing = compose?.mode === 'edit' ? compose.message : null;
  useEffect(() => {
    if (editing === null) return;
    draft.current = box.current?.value ?? '';
    setText(editing.text);
    box.current?.focus();
  }, [editing]);
  useEffect(() => {
    if (compose?.mode === 'reply') box.current?.focus();
  }, [compose]);
  // Opened from the list or by a shortcut: typing goes here at once.
  const composerFocus = useApp((state) => state.composerFocus);
  useEffect(() => {
    if (composerFocus !== conv) return;
    const take = () => {
      box.current?.focus();
      if (document.activeElement === box.current) app().store.getState().focusComposer(null);
    };
    take();
    // A modal dialog (the one that opened this chat) keeps the rest of the page inert until it closes.
    const modal = document.querySelector('dialog[open]');
    modal?.addEventListener('close', take, { once: true });
    return () => modal?.removeEventListener('close', take);
  }, [composerFocus, conv]);
  // Kept as the conversation is left (an edit's text is not a draft: what was typed before it is).
  useEffect(() => {
    typed.current = editing === null ? text : draft.current;
  });
  useEffect(() => () => app().store.getState().setDraft(conv, typed.current), [conv]);

  const endCompose = () => {
    if (editing !== null) setText(draft.current);
    setCompose(null);
  };

  const send = async () => {
    if (disabled || tooLong) return;
    const sending = text;
    const replyTo = compose?.mode === 'reply' ? compose.message.id : undefined;
    if (editing === null && attached.length > 0) {
      // The text is the files' caption; all is cleared at once and given back if the app refuses them.
      const files = attached;
      const replying = compose;
      setText('');
      setCompose(null);
      clearAttached(conv);
      const result = await sendAttached(app(), target, files, sending.trim() === '' ? '' : sending, replyTo);
      // Cancelled from its row: the row says so.
      if (!result.ok && result.error.code === 'CANCELLED') return;
      setError(result.ok ? null : result.error);
      if (!result.ok) {
        attach(conv, files);
        setText((current) => (current === '' ? sending : current));
        setCompose(replying);
      }
      return;
    }
    if (text.trim() === '') return;
    if (editing !== null) {
      const result = await editMessage(app(), editing, sending);
      setError(result.ok ? null : result.error);
      if (result.ok) endCompose();
      return;
    }
    // Cleared at once: the message shows as queued right away; put back if the app refuses it.
    setText('');
    setCompose(null);
    const result = await app().api.send(target, sending, replyTo);
    if (result.ok) {
      setError(null);
    } else {
      setError(result.error);
      setText((current) => (current === '' ? sending : current));
    }
  };

  /** Replaces a stretch of the text and puts the caret after the new part. */
  const replace = (start: number, end: number, insert: string) => {
    const next = text.slice(0, start) + insert + text.slice(end);
    const after = start + insert.length;
    setText(next);
    setCaret(after);
    requestAnimationFrame(() => {
      box.current?.focus();
      box.current?.setSelectionRange(after, after);
    });
  };
  const mentions = useMentionSuggest({ text, caret, people, me, replace });
  const closeEmoji = useCallback(() => {
    setEmojiOpen(false);
    emojiButton.current?.focus();
  }, []);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };

  // A pasted picture (a screenshot) is attached; pasted text stays text.
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...event.clipboardData.files];
    if (files.length === 0 || editing !== null) return;
    event.preventDefault();
    attach(conv, files);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentions.onKeyDown(event)) return;
    if (event.key === 'Escape' && compose !== null) {
      event.preventDefault();
      endCompose();
      return;
    }
    // Enter while an input method is composing picks a candidate; it must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <ErrorAlert error={error} text={error ? fileErrorText(error, { direction: 'upload' }) : undefined} />
      {muted !== undefined && (
        <p id={mutedId} className="composer-muted" role="status">
          {muted.until === null
            ? t('composer.mutedByHost')
            : t('composer.mutedUntil', { time: formatMoment(muted.until, Date.now(), i18n.language) })}
        </p>
      )}
      {mentions.list}
      {emojiOpen && (
        <EmojiPopover
          label={t('emoji.picker')}
          placement="above"
          onClose={closeEmoji}
          onPick={(emoji) => {
            setEmojiOpen(false);
            replace(box.current?.selectionStart ?? text.length, box.current?.selectionEnd ?? text.length, emoji);
          }}
        />
      )}
      {compose !== null && (
        <div className="compose-bar">
          <Icon name={compose.mode === 'reply' ? 'reply' : 'edit'} />
          <p>
            <strong>{compose.mode === 'reply' ? t('reply.replyingTo', { name: compose.message.from }) : t('edit.editing')}</strong>
            {compose.mode === 'reply' && <span className="compose-snippet">{replySnippet(compose.message.text)}</span>}
          </p>
          <button
            type="button"
            className="icon-button"
            aria-label={compose.mode === 'reply' ? t('reply.cancel') : t('edit.cancel')}
            title={compose.mode === 'reply' ? t('reply.cancel') : t('edit.cancel')}
            onClick={endCompose}
          >
            <Icon name="close" />
          </button>
        </div>
      )}
      <Uploads target={target} />
      {editing === null && <AttachedFiles files={attached} onRemove={(file) => unattach(conv, file)} />}
      <div className="composer-row">
        {editing === null && (
          <>
            <button
              type="button"
              className="icon-button"
              aria-label={t('files.attach')}
              title={t('files.attach')}
              disabled={disabled}
              onClick={() => filePicker.current?.click()}
            >
              <Icon name="paperclip" />
            </button>
            <input
              ref={filePicker}
              type="file"
              multiple
              hidden
              tabIndex={-1}
              onChange={(event) => {
                attach(conv, [...(event.target.files ?? [])]);
                // Picking the same file again must fire change again.
                event.target.value = '';
                box.current?.focus();
              }}
            />
          </>
        )}
        {/* Grows with its text, wrapped lines included, up to a cap (CSS field-sizing). */}
        <textarea
          ref={box}
          {...mentions.inputProps}
          aria-label={t('composer.label')}
          aria-describedby={muted !== undefined ? mutedId : left <= COUNTER_FROM ? counterId : undefined}
          aria-invalid={tooLong}
          placeholder={muted === undefined ? t('composer.placeholder') : undefined}
          value={text}
          rows={1}
          disabled={disabled}
          onChange={(event) => {
            setText(event.target.value);
            setCaret(event.target.selectionStart);
            // The app sends at most one typing frame per interval, and none with the setting off.
            if (event.target.value !== '' && editing === null && offers(app(), 'typing')) void app().api.typing(conv);
          }}
          onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        <button
          ref={emojiButton}
          type="button"
          className="icon-button"
          aria-label={t('emoji.insert')}
          title={t('emoji.insert')}
          aria-expanded={emojiOpen}
          disabled={disabled}
          onClick={() => setEmojiOpen(!emojiOpen)}
        >
          <Icon name="smile" />
        </button>
        <button type="submit" className="primary" disabled={disabled || (text.trim() === '' && (editing !== null || attached.length === 0)) || tooLong}>
          {editing !== null ? t('edit.save') : t('composer.send')}
        </button>
      </div>
      {left <= COUNTER_FROM && (
        <p id={counterId} className={tooLong ? 'composer-counter error' : 'composer-counter'} aria-live="polite">
          {tooLong
            ? t('composer.tooLong', { count: -left, max: LIMITS.maxTextLength })
            : t('composer.charactersLeft', { count: left })}
        </p>
      )}
    </form>
  );
}
