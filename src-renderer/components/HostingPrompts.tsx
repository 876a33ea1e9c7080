/**
 * The questions around a hosted room: leaving it while hosting (the room stops with you:
 * nobody could reach it to stop it otherwise), and the note that the app started the room
 * again by itself, with the way to stop it.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { app, useApp } from '../app-context.js';
import { leaveRoom, stopHosting } from '../store/sync.js';

/** A modal question: the native <dialog> keeps focus inside, closes on Escape and gives focus back. */
function ConfirmDialog(props: { open: boolean; title: string; text: string; confirm: string; onConfirm(): void; onCancel(): void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const textId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} className="confirm-dialog" aria-labelledby={titleId} aria-describedby={textId} onClose={props.onCancel}>
      <h2 id={titleId}>{props.title}</h2>
      <p id={textId}>{props.text}</p>
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          {t('hosting.cancel')}
        </button>
        <button type="button" className="danger" onClick={props.onConfirm}>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** "Leave room"; a host is first asked to stop her room, since leaving ends it. */
export function LeaveRoomButton() {
  const { t } = useTranslation();
  const hosting = useApp((state) => state.session.hosting);
  const [asking, setAsking] = useState(false);
  const leave = () => {
    setAsking(false);
    void leaveRoom(app());
  };
  return (
    <>
      <button type="button" onClick={() => (hosting ? setAsking(true) : leave())}>
        {t('header.leave')}
      </button>
      {hosting && (
        <ConfirmDialog
          open={asking}
          title={t('hosting.leaveTitle')}
          text={t('hosting.leaveText', { room: hosting.roomName })}
          confirm={t('hosting.stopAndLeave')}
          onConfirm={leave}
          onCancel={() => setAsking(false)}
        />
      )}
    </>
  );
}

/** Shown while a room that the app restarted by itself runs, until dismissed. */
export function ResumedRoomNotice() {
  const { t } = useTranslation();
  const hosting = useApp((state) => (state.session.resumed ? state.session.hosting : null));
  const [dismissed, setDismissed] = useState(false);
  const [asking, setAsking] = useState(false);
  if (!hosting || dismissed) return null;
  return (
    <section className="resumed-notice" aria-label={t('hosting.resumedLabel')}>
      <p>{t('hosting.resumed', { room: hosting.roomName, port: hosting.port })}</p>
      <div className="dialog-actions">
        <button type="button" onClick={() => setDismissed(true)}>
          {t('hosting.keep')}
        </button>
        <button type="button" className="danger" onClick={() => setAsking(true)}>
          {t('hosting.stop')}
        </button>
      </div>
      <ConfirmDialog
        open={asking}
        title={t('hosting.stopTitle')}
        text={t('hosting.stopText', { room: hosting.roomName })}
        confirm={t('hosting.stop')}
        onConfirm={() => {
          setAsking(false);
          void stopHosting(app());
        }}
        onCancel={() => setAsking(false)}
      />
    </section>
  );
}
