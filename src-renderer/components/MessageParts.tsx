/** The parts of a stored message beyond its text: the quote it answers, reactions, read marks and its actions. */
import { useCallback, useContext, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { conversationKind } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { app, useApp } from '../app-context.js';
import { errorText } from '../i18n/index.js';
import { deleteMessage, offers, openSearchHit, toggleReaction } from '../store/sync.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { EmojiPopover } from './EmojiPopover.js';
import { Icon } from './Icons.js';
import { MenuButton, type MenuItem } from './MenuButton.js';
import { TakeToolbarTurn, moveInToolbars, toolbarButtons } from './toolbar-turn.js';

/** The hover bar's reactions, as most messengers offer them. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** The quote of the message this one answers: a button to the original, or a note that it was deleted. */
export function ReplyQuote({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  const { replyTo } = message;
  if (replyTo === undefined) return null;
  if (replyTo.deleted) return <p className="reply-quote deleted">{t('reply.deleted')}</p>;
  return (
    <button
      type="button"
      className="reply-quote"
      aria-label={t('reply.jump', { name: replyTo.from, text: replyTo.snippet })}
      onClick={() => void openSearchHit(app(), { conv: message.conv, id: replyTo.id })}
    >
      <span className="reply-quote-sender">{replyTo.from}</span>
      <span className="reply-quote-text">{replyTo.snippet}</span>
    </button>
  );
}

/** Each emoji reacted with and how many: a toggle for your own, the names on hover. */
export function Reactions({ message, me }: { message: ChatMessage; me: string | null }) {
  const { t } = useTranslation();
  const [error, setError] = useState<AppError | null>(null);
  if (message.reactions === undefined || message.reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label={t('reactions.label')}>
      {message.reactions.map((reaction) => {
        const mine = reaction.users.some((user) => sameName(user, me));
        const names = reaction.users.join(', ');
        return (
          <button
            key={reaction.emoji}
            type="button"
            className="reaction"
            aria-pressed={mine}
            aria-label={t('reactions.chip', { emoji: reaction.emoji, count: reaction.users.length, names })}
            title={names}
            onClick={async () => {
              const result = await toggleReaction(app(), message, reaction.emoji);
              setError(result.ok ? null : result.error);
            }}
          >
            <span className="reaction-emoji">{reaction.emoji}</span> {reaction.users.length}
          </button>
        );
      })}
      {error !== null && <span className="message-error">{errorText(t, error)}</span>}
    </div>
  );
}

/**
 * "Read" in a direct chat, "Read by N" in a group with the names shown on hover or keyboard focus;
 * nothing in the room, where there are too many readers, nor while you send no receipts yourself.
 */
export function ReadMark({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  const namesId = useId();
  const receipts = useApp((state) => (state.sendReadReceipts === false ? undefined : state.receipts[message.conv]));
  const kind = conversationKind(message.conv);
  if (kind === 'room' || receipts === undefined) return null;
  const readers = Object.values(receipts)
    .filter((receipt) => receipt.upTo >= message.id && !sameName(receipt.user, message.from))
    .map((receipt) => receipt.user)
    .sort((a, b) => a.localeCompare(b));
  if (readers.length === 0) return null;
  if (kind === 'dm') return <span className="read-mark">{t('receipts.read')}</span>;
  return (
    <span className="read-mark-holder">
      <button type="button" className="read-mark" aria-describedby={namesId}>
        {t('receipts.readBy', { count: readers.length })}
      </button>
      <span id={namesId} role="tooltip" className="read-mark-names">
        {readers.join(', ')}
      </span>
    </span>
  );
}

interface MessageActionsProps {
  message: ChatMessage;
  own: boolean;
  /** Whether this toolbar is the message list's tab stop. */
  turn: boolean;
  onError(error: AppError | null): void;
}

/**
 * What can be done with a message, on hover or keyboard focus: quick reactions, the full emoji
 * picker, reply, and a menu (edit and delete for your own; delete for the host).
 */
export function MessageActions({ message, own, turn, onError }: MessageActionsProps) {
  const { t } = useTranslation();
  const [picking, setPicking] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const hosting = useApp((state) => state.session.hosting !== null);
  const editWindow = useApp((state) => state.session.limits?.editWindowMs ?? null);
  const setCompose = useApp((state) => state.setCompose);
  const ctx = app();
  const closePicker = useCallback(() => setPicking(false), []);
  const takeTurn = useContext(TakeToolbarTurn);
  /** Which of its buttons is the tab stop, when this toolbar is the list's. */
  const [at, setAt] = useState(0);
  if (message.deleted) return null;

  const react = async (emoji: string) => {
    const result = await toggleReaction(ctx, message, emoji);
    onError(result.ok ? null : result.error);
  };
  const canReact = offers(ctx, 'reactions');
  const canReply = offers(ctx, 'reply');
  const canEdit = own && offers(ctx, 'edit') && (editWindow === null || Date.now() - message.ts < editWindow);
  const canDelete = (own || hosting) && offers(ctx, 'delete');
  const items: MenuItem[] = [
    ...(canReply ? [{ label: t('reply.action'), onSelect: () => setCompose({ mode: 'reply', message }) }] : []),
    ...(canEdit ? [{ label: t('edit.action'), onSelect: () => setCompose({ mode: 'edit', message }) }] : []),
    { label: t('actions.copy'), onSelect: () => void navigator.clipboard.writeText(message.text) },
    ...(canDelete ? [{ label: t('delete.action'), danger: true, onSelect: () => setConfirmDelete(true) }] : []),
  ];

  const count = (canReact ? QUICK_REACTIONS.length + 1 : 0) + (canReply ? 1 : 0) + 1;
  let next = 0;
  /** The tab index of the toolbar's next button: one tab stop for the toolbar, and for the whole list. */
  const stop = () => {
    const index = next++;
    return turn && index === Math.min(at, count - 1) ? 0 : -1;
  };

  return (
    <div
      className={picking ? 'message-actions open' : 'message-actions'}
      role="toolbar"
      aria-label={t('actions.toolbar', { name: message.from })}
      onFocus={(event) => {
        const index = toolbarButtons(event.currentTarget).indexOf(event.target as HTMLElement);
        if (index < 0) return;
        setAt(index);
        takeTurn(message.id);
      }}
      onKeyDown={(event) => {
        if (moveInToolbars(event)) event.preventDefault();
      }}
    >
      {canReact &&
        QUICK_REACTIONS.map((emoji) => (
          <button key={emoji} type="button" className="icon-button quick-reaction" tabIndex={stop()} aria-label={t('reactions.add', { emoji })} title={t('reactions.add', { emoji })} onClick={() => void react(emoji)}>
            {emoji}
          </button>
        ))}
      {canReact && (
        <button type="button" className="icon-button" tabIndex={stop()} aria-label={t('reactions.more')} title={t('reactions.more')} aria-expanded={picking} onClick={() => setPicking(!picking)}>
          <Icon name="smile" />
        </button>
      )}
      {canReply && (
        <button type="button" className="icon-button" tabIndex={stop()} aria-label={t('reply.action')} title={t('reply.action')} onClick={() => setCompose({ mode: 'reply', message })}>
          <Icon name="reply" />
        </button>
      )}
      <MenuButton label={t('actions.menu')} items={items} tabIndex={stop()}>
        <Icon name="more" />
      </MenuButton>
      {picking && (
        <EmojiPopover
          label={t('reactions.picker')}
          placement="below"
          onClose={closePicker}
          onPick={(emoji) => {
            setPicking(false);
            void react(emoji);
          }}
        />
      )}
      <ConfirmDialog
        open={confirmDelete}
        question={t('delete.question')}
        detail={own ? t('delete.detail') : t('delete.detailHost', { name: message.from })}
        confirm={t('delete.confirm')}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => {
          setConfirmDelete(false);
          const result = await deleteMessage(ctx, message);
          onError(result.ok ? null : result.error);
        }}
      />
    </div>
  );
}
