/**
 * What starts or joins a call: the header's call buttons, the ring of an incoming call, and the bar
 * over a conversation in which a call is going on.
 */
import type { TFunction } from 'i18next';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, RoomLimits } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { useApp, useConversation } from '../app-context.js';
import { calls } from '../calls/controller.js';
import { notifyRing } from '../calls/notify.js';
import type { CallInfo } from '../calls/types.js';
import { errorText } from '../i18n/index.js';
import { RING_MS, callIn, ringingCall } from '../store/calls.js';
import { Avatar } from './Avatar.js';
import { Icon } from './Icons.js';

/** An error from starting or joining a call, in words (media errors and a full call have their own). */
export function callErrorText(t: TFunction, error: AppError, limits?: RoomLimits, video = false): string {
  if (error.code === 'CALL_FULL') {
    const limit = video ? limits?.maxVideoCallParticipants : limits?.maxCallParticipants;
    return limit === undefined ? t('calls.fullUnknown') : t('calls.full', { count: limit });
  }
  const media = /^MEDIA_(DENIED|NOTFOUND|BUSY|OTHER)$/.exec(error.code)?.[1];
  if (media !== undefined) return t(`calls.mediaError.${media === 'NOTFOUND' ? 'notFound' : (media.toLowerCase() as 'denied' | 'busy' | 'other')}`);
  return errorText(t, error);
}

/** Voice and video call buttons for a direct message or a group; off while you are in a call or one runs here. */
export function CallButtons({ conv, disabled, onError }: { conv: ConversationKey; disabled: boolean; onError(error: AppError | null): void }) {
  const { t } = useTranslation();
  const busy = useApp((state) => state.inCall !== null || callIn(state.calls, conv) !== undefined);
  const [starting, setStarting] = useState(false);
  const start = async (video: boolean) => {
    const controller = calls();
    if (controller === null) return;
    setStarting(true);
    onError(null);
    const result = await controller.start(conv, video);
    setStarting(false);
    if (!result.ok) onError(result.error);
  };
  const off = disabled || busy || starting;
  return (
    <>
      <button type="button" className="icon-button" aria-label={t('calls.voiceCall')} title={t('calls.voiceCall')} disabled={off} onClick={() => void start(false)}>
        <Icon name="phone" />
      </button>
      <button type="button" className="icon-button" aria-label={t('calls.videoCall')} title={t('calls.videoCall')} disabled={off} onClick={() => void start(true)}>
        <Icon name="video" />
      </button>
    </>
  );
}

/** The ring: who calls and where, with Accept, Accept with video and Decline. Does not take the focus from what you type. */
export function IncomingCall() {
  const { t } = useTranslation();
  const me = useApp((state) => state.session.me);
  const ringMs = useApp((state) => state.session.limits?.callRingMs);
  const call = useApp((state) => ringingCall(state, state.session.me, Date.now(), ringMs));
  const [, setExpired] = useState(0);
  // A group call someone already joined stops ringing when its time is up, with nothing else changing.
  useEffect(() => {
    if (call?.state !== 'active') return;
    const timer = setTimeout(() => setExpired(Date.now()), Math.max(0, call.startedAt + (ringMs ?? RING_MS) - Date.now()));
    return () => clearTimeout(timer);
  }, [call, ringMs]);
  const conversation = useConversation(call?.conv ?? '');
  const limits = useApp((state) => state.session.limits);
  const headingId = useId();
  const [error, setError] = useState<AppError | null>(null);
  const where = conversation?.kind === 'group' ? conversation.name : null;
  const title = call === undefined ? '' : callTitle(t, call, where);

  // Once per ringing call, however often the title changes under it.
  useEffect(() => {
    if (call !== undefined && !sameName(call.startedBy, me)) notifyRing(call.id, title);
  }, [call?.id]);

  if (call === undefined) return null;
  const answer = async (video: boolean | null) => {
    const controller = calls();
    if (controller === null) return;
    const result = video === null ? await controller.decline(call) : await controller.join(call, video);
    setError(result.ok ? null : result.error);
  };
  return (
    <section className="incoming-call" role="dialog" aria-modal="false" aria-labelledby={headingId} aria-describedby={`${headingId}-what`}>
      <Avatar name={call.startedBy} size={44} />
      <div className="incoming-call-text">
        <h2 id={headingId}>{title}</h2>
        <p id={`${headingId}-what`}>{call.video ? t('calls.incomingVideo') : t('calls.incomingVoice')}</p>
        {error !== null && (
          <p className="error" role="alert">
            {callErrorText(t, error, limits, call.video)}
          </p>
        )}
      </div>
      <div className="incoming-call-actions">
        <button type="button" className="accept" onClick={() => void answer(false)}>
          <Icon name="phone" /> {t('calls.accept')}
        </button>
        <button type="button" className="accept" onClick={() => void answer(true)}>
          <Icon name="video" /> {t('calls.acceptVideo')}
        </button>
        <button type="button" className="danger-solid" onClick={() => void answer(null)}>
          <Icon name="hangUp" /> {t('calls.decline')}
        </button>
      </div>
    </section>
  );
}

function callTitle(t: TFunction, call: CallInfo, group: string | null): string {
  return group === null ? t('calls.calling', { name: call.startedBy }) : t('calls.callingGroup', { name: call.startedBy, group });
}

/** Over a conversation whose call you are not in: who is in it, and Join. */
export function CallBar({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const call = useApp((state) => callIn(state.calls, conv));
  const inThis = useApp((state) => state.inCall !== null && state.inCall.id === call?.id);
  const ringMs = useApp((state) => state.session.limits?.callRingMs);
  const ringing = useApp((state) => ringingCall(state, state.session.me, Date.now(), ringMs)?.id === call?.id);
  const me = useApp((state) => state.session.me);
  const limits = useApp((state) => state.session.limits);
  const [error, setError] = useState<AppError | null>(null);
  if (call === undefined || inThis || ringing) return null;
  const people = [...new Set(call.participants.map((participant) => participant.user))];
  const limit = call.video ? limits?.maxVideoCallParticipants : limits?.maxCallParticipants;
  const full = limit !== undefined && call.participants.length >= limit;
  const mine = people.some((name) => sameName(name, me));
  const join = async (video: boolean) => {
    const controller = calls();
    if (controller === null) return;
    const result = await controller.join(call, video);
    setError(result.ok ? null : result.error);
  };
  return (
    <div className="call-bar" role="region" aria-label={t('calls.barLabel')}>
      <Icon name={call.video ? 'video' : 'phone'} />
      <p>
        {people.length === 0 ? t('calls.barEmpty') : t('calls.barPeople', { names: people.join(', '), count: people.length })}
        {mine && <span className="hint"> {t('calls.barElsewhere')}</span>}
      </p>
      {full && <p className="hint">{t('calls.full', { count: limit })}</p>}
      {error !== null && (
        <p className="error" role="alert">
          {callErrorText(t, error, limits, call.video)}
        </p>
      )}
      <button type="button" className="primary small" disabled={full} onClick={() => void join(false)}>
        {t('calls.join')}
      </button>
      <button type="button" className="small" disabled={full} onClick={() => void join(true)}>
        {t('calls.joinVideo')}
      </button>
    </div>
  );
}
