/**
 * The questions around a hosted room: leaving it or signing out while hosting (the room stops
 * with you: nobody could reach it to stop it otherwise), and the note that the app started the
 * room again by itself, with the way to stop it.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { app, useApp } from '../app-context.js';
import { leaveRoom, signOut, stopHosting } from '../store/sync.js';
import { ConfirmDialog } from './ConfirmDialog.js';

const EXITS = {
  leave: { button: 'header.leave', question: 'hosting.leaveTitle', detail: 'hosting.leaveText', confirm: 'hosting.stopAndLeave', run: leaveRoom },
  signOut: { button: 'account.signOut', question: 'hosting.signOutTitle', detail: 'hosting.signOutText', confirm: 'hosting.stopAndSignOut', run: signOut },
} as const;

/** "Leave room" (the session stays saved) or "Sign out" (it is forgotten); a host is first asked to stop her room. */
export function RoomExitButton({ exit, className }: { exit: keyof typeof EXITS; className?: string }) {
  const { t } = useTranslation();
  const hosting = useApp((state) => state.session.hosting);
  const [asking, setAsking] = useState(false);
  const texts = EXITS[exit];
  const run = () => {
    setAsking(false);
    void texts.run(app());
  };
  return (
    <>
      <button type="button" className={className} onClick={() => (hosting ? setAsking(true) : run())}>
        {t(texts.button)}
      </button>
      {hosting && (
        <ConfirmDialog
          open={asking}
          question={t(texts.question)}
          detail={t(texts.detail, { room: hosting.roomName })}
          confirm={t(texts.confirm)}
          onConfirm={run}
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
        question={t('hosting.stopTitle')}
        detail={t('hosting.stopText', { room: hosting.roomName })}
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
